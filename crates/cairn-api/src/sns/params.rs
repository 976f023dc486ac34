//! SNS's Query-protocol maps and lists: `Attributes.entry.N.key/value`,
//! `MessageAttributes.entry.N.Name` with `.Value.DataType/StringValue/BinaryValue`,
//! `PublishBatchRequestEntries.member.N.*`, `Tags.member.N.Key/Value` and plain
//! `<name>.member.N` lists.

use std::collections::BTreeMap;

use cairn_core::publish::{MessageAttribute, PublishInput};

use crate::query::Params;

/// Groups `<prefix>.<N>.<rest>` parameters by N (in N order), each as (rest, value).
fn numbered<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
    prefix: &str,
) -> Vec<Vec<(String, String)>> {
    let mut groups: BTreeMap<u32, Vec<(String, String)>> = BTreeMap::new();
    let lead = format!("{prefix}.");
    for (k, v) in pairs {
        let Some(tail) = k.strip_prefix(&lead) else {
            continue;
        };
        let Some((n, rest)) = tail.split_once('.') else {
            continue;
        };
        if let Ok(n) = n.parse::<u32>() {
            groups
                .entry(n)
                .or_default()
                .push((rest.to_owned(), v.to_owned()));
        }
    }
    groups.into_values().collect()
}

fn field<'a>(group: &'a [(String, String)], name: &str) -> Option<&'a str> {
    group
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `Attributes.entry.N.key/value` pairs (CreateTopic, Subscribe).
pub fn attribute_map(params: &Params) -> Vec<(String, String)> {
    numbered(
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        "Attributes.entry",
    )
    .iter()
    .filter_map(|g| Some((field(g, "key")?.to_owned(), field(g, "value")?.to_owned())))
    .collect()
}

/// `<name>.member.N` values in N order (`AWSAccountId`, `ActionName`, `TagKeys`).
pub fn members(params: &Params, name: &str) -> Vec<String> {
    let lead = format!("{name}.member.");
    let mut found: BTreeMap<u32, String> = BTreeMap::new();
    for (k, v) in params.iter() {
        if let Some(n) = k.strip_prefix(&lead).and_then(|n| n.parse::<u32>().ok()) {
            found.insert(n, v.clone());
        }
    }
    found.into_values().collect()
}

/// `Tags.member.N.Key/Value` pairs (CreateTopic, TagResource); a missing value is "".
pub fn tags(params: &Params) -> Vec<(String, String)> {
    numbered(
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        "Tags.member",
    )
    .iter()
    .filter_map(|g| {
        Some((
            field(g, "Key")?.to_owned(),
            field(g, "Value").unwrap_or_default().to_owned(),
        ))
    })
    .collect()
}

/// The first `Tags.member.N` missing its `Key` or `Value`, as the model's required members
/// name it (`tags.1.member.key`): SNS refuses such a tag (sns6: one without a key was dropped
/// and one without a value stored as "").
pub fn missing_tag_member(params: &Params) -> Option<String> {
    numbered(
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        "Tags.member",
    )
    .iter()
    .enumerate()
    .find_map(|(i, g)| {
        ["Key", "Value"]
            .into_iter()
            .find(|m| field(g, m).is_none())
            .map(|m| format!("tags.{}.member.{}", i + 1, m.to_ascii_lowercase()))
    })
}

/// `MessageAttributes.entry.N` under `prefix` ("" for Publish).
fn message_attributes<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
    prefix: &str,
) -> Vec<MessageAttribute> {
    numbered(pairs, &format!("{prefix}MessageAttributes.entry"))
        .iter()
        .map(|g| MessageAttribute {
            name: field(g, "Name").unwrap_or_default().to_owned(),
            data_type: field(g, "Value.DataType").unwrap_or_default().to_owned(),
            value: field(g, "Value.StringValue")
                .or_else(|| field(g, "Value.BinaryValue"))
                .unwrap_or_default()
                .to_owned(),
            binary: field(g, "Value.StringValue").is_none()
                && field(g, "Value.BinaryValue").is_some(),
        })
        .collect()
}

/// The `Publish` input.
pub fn publish_input(params: &Params) -> PublishInput {
    PublishInput {
        message: params.get("Message").unwrap_or_default().to_owned(),
        subject: params.get("Subject").map(str::to_owned),
        message_structure: params.get("MessageStructure").map(str::to_owned),
        attributes: message_attributes(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), ""),
        message_group_id: params.get("MessageGroupId").map(str::to_owned),
        message_deduplication_id: params.get("MessageDeduplicationId").map(str::to_owned),
    }
}

/// `PublishBatchRequestEntries.member.N`: each entry's `Id` and input.
pub fn batch_entries(params: &Params) -> Vec<(String, PublishInput)> {
    numbered(
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        "PublishBatchRequestEntries.member",
    )
    .iter()
    .map(|g| {
        let pairs = g.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        (
            field(g, "Id").unwrap_or_default().to_owned(),
            PublishInput {
                message: field(g, "Message").unwrap_or_default().to_owned(),
                subject: field(g, "Subject").map(str::to_owned),
                message_structure: field(g, "MessageStructure").map(str::to_owned),
                attributes: message_attributes(pairs, ""),
                message_group_id: field(g, "MessageGroupId").map(str::to_owned),
                message_deduplication_id: field(g, "MessageDeduplicationId").map(str::to_owned),
            },
        )
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_and_batches_parse() {
        let p = Params::parse(
            "",
            b"Action=PublishBatch&PublishBatchRequestEntries.member.2.Id=b&PublishBatchRequestEntries.member.2.Message=two\
&PublishBatchRequestEntries.member.1.Id=a&PublishBatchRequestEntries.member.1.Message=one\
&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name=k\
&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.DataType=String\
&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue=v\
&Attributes.entry.1.key=RawMessageDelivery&Attributes.entry.1.value=true",
        );
        let b = batch_entries(&p);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].0, "a");
        assert_eq!(b[0].1.message, "one");
        assert_eq!(b[0].1.attributes[0].value, "v");
        assert_eq!(b[1].1.message, "two");
        assert_eq!(
            attribute_map(&p),
            vec![("RawMessageDelivery".into(), "true".into())]
        );
    }

    #[test]
    fn tags_and_members_parse() {
        let p = Params::parse(
            "",
            b"Tags.member.2.Key=b&Tags.member.2.Value=2&Tags.member.1.Key=a&Tags.member.1.Value=1\
&Tags.member.3.Key=c&TagKeys.member.2=y&TagKeys.member.1=x",
        );
        assert_eq!(
            tags(&p),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "2".into()),
                ("c".into(), String::new())
            ]
        );
        assert_eq!(members(&p, "TagKeys"), vec!["x", "y"]);
    }
}
