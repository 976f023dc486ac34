//! The account: Create/Delete/ListAccountAliases, GetAccountSummary and the credential report
//! (Generate/GetCredentialReport; no resource-level permissions: each is authorized on `*`).

use cairn_core::iam::account;

use super::input::Input;
use super::xml::{el, escape};
use super::{Call, Reply, Target};

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
