//! Reading the two configurations of a comparison: which destination the files are for, and
//! an edited Actions subscription merged over the list it comes from.

use serde_json::Value;

/// What a configuration file holds, by its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The classic destination's settings: an object with `customAttributes`,
    /// `applicationDomain` or `apiKey` (and no `deployment`).
    ClassicSettings,
    /// The Actions destination's settings: an object naming a `deployment`.
    ActionsSettings,
    /// A list of Actions subscriptions: an array, or an object with `subscriptions`.
    Subscriptions,
    /// One Actions subscription: an object with an `actionSlug`, a `trigger` or `settings`.
    Subscription,
    /// None of those.
    Unknown,
}

/// The shape of a configuration file's JSON.
pub fn shape(value: &Value) -> Shape {
    match value {
        Value::Array(_) => Shape::Subscriptions,
        Value::Object(map) if map.contains_key("subscriptions") => Shape::Subscriptions,
        Value::Object(map) if map.contains_key("deployment") => Shape::ActionsSettings,
        Value::Object(map)
            if ["actionSlug", "actionId", "trigger", "settings"]
                .iter()
                .any(|k| map.contains_key(*k)) =>
        {
            Shape::Subscription
        }
        Value::Object(map)
            if ["customAttributes", "applicationDomain", "apiKey"]
                .iter()
                .any(|k| map.contains_key(*k)) =>
        {
            Shape::ClassicSettings
        }
        _ => Shape::Unknown,
    }
}

/// `one` (an edited subscription) merged over `list` (Segment's Public API shape, or a bare
/// array): it replaces the subscription with the same `id`, else the one with the same `name`,
/// else it is added at the end. Chosen here: ids are what Segment's Public API keys
/// subscriptions by; a file written by hand may have only a name. Returns the merged list as
/// `{"subscriptions": […]}`.
pub fn merge_subscription(list: &Value, one: &Value) -> Result<Value, String> {
    let items = match list {
        Value::Array(items) => items.clone(),
        Value::Object(map) => match map.get("subscriptions") {
            Some(Value::Array(items)) => items.clone(),
            _ => return Err("the subscriptions are not a list".into()),
        },
        _ => return Err("the subscriptions are not a list".into()),
    };
    let Some(edited) = one.as_object() else {
        return Err("the edited subscription is not an object".into());
    };
    let id = edited.get("id").and_then(Value::as_str);
    let name = edited.get("name").and_then(Value::as_str);
    if id.is_none() && name.is_none() {
        return Err(
            "the edited subscription has no `id` and no `name` to find it in the list by".into(),
        );
    }
    let field = |item: &Value, key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
    let position = id
        .and_then(|id| {
            items
                .iter()
                .position(|item| field(item, "id").as_deref() == Some(id))
        })
        .or_else(|| {
            name.and_then(|name| {
                items
                    .iter()
                    .position(|item| field(item, "name").as_deref() == Some(name))
            })
        });
    let mut items = items;
    match position {
        Some(i) => items[i] = one.clone(),
        None => items.push(one.clone()),
    }
    Ok(serde_json::json!({ "subscriptions": items }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_edited_subscription_replaces_the_one_with_its_id_else_its_name_else_is_added() {
        let list = json!({"subscriptions": [
            {"id": "a", "name": "A", "trigger": "1"},
            {"id": "b", "name": "B", "trigger": "2"},
        ]});
        let by_id = merge_subscription(
            &list,
            &json!({"id": "b", "name": "renamed", "trigger": "3"}),
        )
        .unwrap();
        assert_eq!(by_id["subscriptions"][1]["trigger"], "3");
        assert_eq!(by_id["subscriptions"].as_array().unwrap().len(), 2);
        let by_name = merge_subscription(&list, &json!({"name": "A", "trigger": "4"})).unwrap();
        assert_eq!(by_name["subscriptions"][0]["trigger"], "4");
        let added = merge_subscription(&list, &json!({"id": "c", "name": "C"})).unwrap();
        assert_eq!(added["subscriptions"][2]["id"], "c");
        assert!(merge_subscription(&list, &json!({"trigger": "5"})).is_err());
        assert!(merge_subscription(&json!(3), &json!({"id": "a"})).is_err());
    }

    #[test]
    fn the_shape_of_a_file_tells_its_destination() {
        assert_eq!(
            shape(&json!({"customAttributes": []})),
            Shape::ClassicSettings
        );
        assert_eq!(
            shape(&json!({"apiKey": "k", "deployment": "d"})),
            Shape::ActionsSettings
        );
        assert_eq!(shape(&json!([])), Shape::Subscriptions);
        assert_eq!(shape(&json!({"subscriptions": []})), Shape::Subscriptions);
        assert_eq!(
            shape(&json!({"name": "x", "trigger": "t"})),
            Shape::Subscription
        );
        assert_eq!(shape(&json!({"name": "x"})), Shape::Unknown);
    }
}
