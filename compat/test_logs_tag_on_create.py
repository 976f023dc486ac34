"""Tagging a log group at its creation needs a tagging permission (logs8). "To assign tags
when you create a log group, you must have either the logs:TagResource or logs:TagLogGroup
permission" (CloudWatch Logs API reference, CreateLogGroup `tags`). Before, CreateLogGroup
asked only for logs:CreateLogGroup, so a user denied tagging gave a new group any tag, and
tag-based access policies with it."""


import pytest
from botocore.exceptions import ClientError

from conftest import user_with


def test_tags_at_creation_need_either_tag_action(cairn):
    create = {"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "*"}
    denied = user_with(cairn, "no-tags", [create, {
        "Effect": "Deny", "Action": ["logs:TagResource", "logs:TagLogGroup"], "Resource": "*"}])("logs")
    with pytest.raises(ClientError) as e:
        denied.create_log_group(logGroupName="/tags/sneaky", tags={"team": "admin"})
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    root = cairn.client("logs")
    assert root.describe_log_groups(logGroupNamePrefix="/tags/sneaky")["logGroups"] == []
    # Without tags the same user creates a group.
    denied.create_log_group(logGroupName="/tags/plain")
    # Either action is enough, and its conditions see the request's tags.
    for action in ("logs:TagResource", "logs:TagLogGroup"):
        user = user_with(cairn, action.split(":")[1].lower(), [create, {
            "Effect": "Allow", "Action": action, "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestTag/team": "dev"}}}])("logs")
        name = f"/tags/{action.split(':')[1]}"
        user.create_log_group(logGroupName=name, tags={"team": "dev"})
        assert root.list_tags_log_group(logGroupName=name)["tags"] == {"team": "dev"}
        with pytest.raises(ClientError):
            user.create_log_group(logGroupName=name + "-admin", tags={"team": "admin"})


def test_unmask_needs_its_own_permission(cairn):
    """sdk9: "If you specify true for unmask, you must have the logs:Unmask permission"
    (GetLogEvents and FilterLogEvents API reference); a reader without it got the events."""
    root = cairn.client("logs")
    root.create_log_group(logGroupName="/unmask/g")
    root.create_log_stream(logGroupName="/unmask/g", logStreamName="s")
    reader = user_with(cairn, "no-unmask", [{
        "Effect": "Allow", "Action": ["logs:GetLogEvents", "logs:FilterLogEvents"], "Resource": "*"}])("logs")
    reader.get_log_events(logGroupName="/unmask/g", logStreamName="s")
    reader.filter_log_events(logGroupName="/unmask/g")
    for call in (lambda: reader.get_log_events(logGroupName="/unmask/g", logStreamName="s", unmask=True),
                 lambda: reader.filter_log_events(logGroupName="/unmask/g", unmask=True)):
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    unmasker = user_with(cairn, "unmasker", [{
        "Effect": "Allow", "Action": ["logs:GetLogEvents", "logs:Unmask"], "Resource": "*"}])("logs")
    unmasker.get_log_events(logGroupName="/unmask/g", logStreamName="s", unmask=True)


def test_the_delivery_class_is_refused_not_run_as_standard(cairn):
    """logs8: a DELIVERY group keeps events one day and offers no Insights (the model); it
    was taken and kept everything as STANDARD. Cairn does not carry out that class."""
    root = cairn.client("logs")
    with pytest.raises(ClientError) as e:
        root.create_log_group(logGroupName="/class/delivery", logGroupClass="DELIVERY")
    assert e.value.response["Error"]["Code"] == "UnsupportedOperationException"
    assert root.describe_log_groups(logGroupNamePrefix="/class/delivery")["logGroups"] == []
    root.create_log_group(logGroupName="/class/ia", logGroupClass="INFREQUENT_ACCESS")
