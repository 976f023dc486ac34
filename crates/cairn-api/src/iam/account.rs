//! The account: Create/Delete/ListAccountAliases, GetAccountSummary and the credential report
//! (Generate/GetCredentialReport; no resource-level permissions: each is authorized on `*`).

use cairn_core::iam::account;

use super::input::Input;
use super::xml::{el, escape};
use super::{Call, Reply, Target};

/// GetAccountPasswordPolicy's members, in the API reference's order; `ExpirePasswords` is
/// whether a maximum age is set, and the optional ones appear only when set.
fn password_policy_xml(p: &cairn_store::iam::account::PasswordPolicy) -> String {
    let mut xml = format!(
        "{}{}{}{}{}{}{}",
        el(
            "MinimumPasswordLength",
            &p.minimum_password_length.to_string()
        ),
        el("RequireSymbols", &p.require_symbols.to_string()),
        el("RequireNumbers", &p.require_numbers.to_string()),
        el(
            "RequireUppercaseCharacters",
            &p.require_uppercase_characters.to_string()
        ),
        el(
            "RequireLowercaseCharacters",
            &p.require_lowercase_characters.to_string()
        ),
        el(
            "AllowUsersToChangePassword",
            &p.allow_users_to_change_password.to_string()
        ),
        el("ExpirePasswords", &p.max_password_age.is_some().to_string()),
    );
    if let Some(age) = p.max_password_age {
        xml.push_str(&el("MaxPasswordAge", &age.to_string()));
    }
    if let Some(n) = p.password_reuse_prevention {
        xml.push_str(&el("PasswordReusePrevention", &n.to_string()));
    }
    if let Some(h) = p.hard_expiry {
        xml.push_str(&el("HardExpiry", &h.to_string()));
    }
    xml
}

pub(super) fn call(action: &str, p: &Input) -> Option<Call> {
    let alias = p.opt("AccountAlias");
    Some(match action {
        "CreateAccountAlias" => Call::write(Target::Any, move |c, ctx| {
            let alias = cairn_core::iam::validate::required(alias.as_deref(), "accountAlias")?;
            account::create(c, ctx, alias)?;
            Ok(Reply::empty())
        }),
        "DeleteAccountAlias" => Call::write(Target::Any, move |c, ctx| {
            let alias = cairn_core::iam::validate::required(alias.as_deref(), "accountAlias")?;
            account::delete(c, ctx, alias)?;
            Ok(Reply::empty())
        }),
        "ListAccountAliases" => Call::read(Target::Any, |c, ctx| {
            let aliases: String = account::list(c, ctx)?
                .iter()
                .map(|a| el("member", a))
                .collect();
            Ok(Reply::xml(format!(
                "<AccountAliases>{aliases}</AccountAliases><IsTruncated>false</IsTruncated>"
            )))
        }),
        "GetAccountSummary" => Call::read(Target::Any, |c, ctx| {
            let entries: String = account::summary(c, ctx)?
                .into_iter()
                .map(|(k, v)| format!("<entry><key>{}</key><value>{v}</value></entry>", escape(k)))
                .collect();
            Ok(Reply::xml(format!("<SummaryMap>{entries}</SummaryMap>")))
        }),
        "UpdateAccountPasswordPolicy" => {
            let p = p.clone();
            Call::write(Target::Any, move |c, ctx| {
                let input = account::PasswordPolicyInput {
                    minimum_password_length: p
                        .int("MinimumPasswordLength", "minimumPasswordLength")?,
                    require_symbols: p.boolean("RequireSymbols", "requireSymbols")?,
                    require_numbers: p.boolean("RequireNumbers", "requireNumbers")?,
                    require_uppercase_characters: p
                        .boolean("RequireUppercaseCharacters", "requireUppercaseCharacters")?,
                    require_lowercase_characters: p
                        .boolean("RequireLowercaseCharacters", "requireLowercaseCharacters")?,
                    allow_users_to_change_password: p
                        .boolean("AllowUsersToChangePassword", "allowUsersToChangePassword")?,
                    max_password_age: p.int("MaxPasswordAge", "maxPasswordAge")?,
                    password_reuse_prevention: p
                        .int("PasswordReusePrevention", "passwordReusePrevention")?,
                    hard_expiry: p.boolean("HardExpiry", "hardExpiry")?,
                };
                account::update_password_policy(c, ctx, &input)?;
                Ok(Reply::empty())
            })
        }
        "GetAccountPasswordPolicy" => Call::read(Target::Any, |c, ctx| {
            let policy = account::password_policy(c, ctx)?;
            Ok(Reply::xml(format!(
                "<PasswordPolicy>{}</PasswordPolicy>",
                password_policy_xml(&policy)
            )))
        }),
        "DeleteAccountPasswordPolicy" => Call::write(Target::Any, |c, ctx| {
            account::delete_password_policy(c, ctx)?;
            Ok(Reply::empty())
        }),
        "GenerateCredentialReport" => Call::write(Target::Any, |c, ctx| {
            cairn_core::iam::report::generate(c, ctx)?;
            Ok(Reply::xml("<State>COMPLETE</State>".to_owned()))
        }),
        "GetCredentialReport" => Call::read(Target::Any, |c, ctx| {
            use base64::Engine;
            let (csv, generated) = cairn_core::iam::report::get(c, ctx)?;
            let when = chrono::DateTime::from_timestamp(generated.floor() as i64, 0)
                .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default();
            let content = base64::engine::general_purpose::STANDARD.encode(csv);
            Ok(Reply::xml(format!(
                "{}{}{}",
                el("Content", &content),
                el("ReportFormat", "text/csv"),
                el("GeneratedTime", &when)
            )))
        }),
        _ => return None,
    })
}
