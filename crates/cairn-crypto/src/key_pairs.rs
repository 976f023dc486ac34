//! Asymmetric data key pairs for KMS's GenerateDataKeyPair: a fresh RSA or elliptic-curve key
//! pair, its private key as PKCS#8 (DER) and its public key as X.509 SubjectPublicKeyInfo
//! (DER), the encodings KMS hands out. Generation is `aws-lc-rs`'s.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::signature::{self, KeyPair};

use crate::{CryptoError, CryptoResult, Secret};

/// The `KeyPairSpec` values Cairn generates (KMS's `DataKeyPairSpec`, without `SM2`, which
/// only China Regions offer).
pub const SPECS: &[&str] = &[
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "ECC_NIST_EDWARDS25519",
];

/// A generated key pair.
pub struct DataKeyPair {
    /// The private key, PKCS#8 DER.
    pub private_pkcs8: Secret,
    /// The public key, X.509 SubjectPublicKeyInfo DER.
    pub public_der: Vec<u8>,
}

fn failed<E>(_: E) -> CryptoError {
    CryptoError::Random
}

/// A new key pair of `spec` (one of [`SPECS`]); `None` for a spec Cairn does not generate.
pub fn generate(spec: &str) -> CryptoResult<Option<DataKeyPair>> {
    use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
    let rsa = |size: KeySize| -> CryptoResult<DataKeyPair> {
        // An RSA pair costs up to a second of CPU (4096 bits): one is made at a time, so
        // callers asking for many cannot take every core.
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let pair = RsaKeyPair::generate(size).map_err(failed)?;
        let private: Pkcs8V1Der<'static> = pair.as_der().map_err(failed)?;
        let public: PublicKeyX509Der<'static> = pair.public_key().as_der().map_err(failed)?;
        Ok(DataKeyPair {
            private_pkcs8: Secret::from_vec(private.as_ref().to_vec()),
            public_der: public.as_ref().to_vec(),
        })
    };
    let ec = |alg: &'static signature::EcdsaSigningAlgorithm| -> CryptoResult<DataKeyPair> {
        let pair = signature::EcdsaKeyPair::generate(alg).map_err(failed)?;
        let private = pair.to_pkcs8v1().map_err(failed)?;
        let public: PublicKeyX509Der<'static> = pair.public_key().as_der().map_err(failed)?;
        Ok(DataKeyPair {
            private_pkcs8: Secret::from_vec(private.as_ref().to_vec()),
            public_der: public.as_ref().to_vec(),
        })
    };
    Ok(Some(match spec {
        "RSA_2048" => rsa(KeySize::Rsa2048)?,
        "RSA_3072" => rsa(KeySize::Rsa3072)?,
        "RSA_4096" => rsa(KeySize::Rsa4096)?,
        "ECC_NIST_P256" => ec(&signature::ECDSA_P256_SHA256_ASN1_SIGNING)?,
        "ECC_NIST_P384" => ec(&signature::ECDSA_P384_SHA384_ASN1_SIGNING)?,
        "ECC_NIST_P521" => ec(&signature::ECDSA_P521_SHA512_ASN1_SIGNING)?,
        "ECC_SECG_P256K1" => ec(&signature::ECDSA_P256K1_SHA256_ASN1_SIGNING)?,
        "ECC_NIST_EDWARDS25519" => {
            let pair = signature::Ed25519KeyPair::generate().map_err(failed)?;
            let private: Pkcs8V1Der<'static> = pair.as_der().map_err(failed)?;
            let public: PublicKeyX509Der<'static> = pair.public_key().as_der().map_err(failed)?;
            DataKeyPair {
                private_pkcs8: Secret::from_vec(private.as_ref().to_vec()),
                public_der: public.as_ref().to_vec(),
            }
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each pair's private key signs what its public key verifies.
    #[test]
    fn pairs_sign_and_verify() {
        let message = b"cairn";
        for (spec, signing, verifying) in [
            (
                "ECC_NIST_P256",
                &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                &signature::ECDSA_P256_SHA256_ASN1,
            ),
            (
                "ECC_SECG_P256K1",
                &signature::ECDSA_P256K1_SHA256_ASN1_SIGNING,
                &signature::ECDSA_P256K1_SHA256_ASN1,
            ),
        ] {
            let pair = generate(spec).unwrap().unwrap();
            let key =
                signature::EcdsaKeyPair::from_pkcs8(signing, pair.private_pkcs8.expose()).unwrap();
            let sig = key
                .sign(&aws_lc_rs::rand::SystemRandom::new(), message)
                .unwrap();
            let public = signature::ParsedPublicKey::new(verifying, &pair.public_der).unwrap();
            public.verify_sig(message, sig.as_ref()).unwrap();
        }
        let rsa = generate("RSA_2048").unwrap().unwrap();
        let key = aws_lc_rs::rsa::KeyPair::from_pkcs8(rsa.private_pkcs8.expose()).unwrap();
        let mut sig = vec![0; key.public_modulus_len()];
        key.sign(
            &signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            message,
            &mut sig,
        )
        .unwrap();
        signature::ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &rsa.public_der)
            .unwrap()
            .verify_sig(message, &sig)
            .unwrap();
        assert!(generate("SM2").unwrap().is_none());
    }
}
