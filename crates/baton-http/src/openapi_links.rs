//! OpenAPI links (what schemathesis and other tools follow from one operation's answer to the
//! next) with the key names the specification gives them.
//!
//! utoipa 5 serializes a link's `operationId`, `operationRef` and `requestBody` as
//! `operation_id`, `operation_ref` and `request_body`, which no reader of the document
//! understands; the link's extension map is serialized flat, so the values are moved there
//! under their proper names.

use utoipa::openapi::{OpenApi, RefOr};

/// Renames the keys of every link of `doc` to the specification's.
pub(crate) fn fix_link_keys(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for response in operation.responses.responses.values_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                for link in response.links.values_mut() {
                    if let RefOr::T(link) = link {
                        fix_link(link);
                    }
                }
            }
        }
    }
}

fn fix_link(link: &mut utoipa::openapi::link::Link) {
    let mut moved = Vec::new();
    if !link.operation_id.is_empty() {
        moved.push(("operationId", std::mem::take(&mut link.operation_id).into()));
    }
    if !link.operation_ref.is_empty() {
        moved.push((
            "operationRef",
            std::mem::take(&mut link.operation_ref).into(),
        ));
    }
    if let Some(body) = link.request_body.take() {
        moved.push(("requestBody", body));
    }
    if moved.is_empty() {
        return;
    }
    let extensions = link.extensions.get_or_insert_with(Default::default);
    for (key, value) in moved {
        extensions.insert(key.to_owned(), value);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_use_the_specification_key_names() {
        let doc = serde_json::to_value(crate::openapi_document()).unwrap();
        let text = doc.to_string();
        assert!(
            !text.contains("\"operation_id\""),
            "a link kept operation_id"
        );
        assert!(
            !text.contains("\"request_body\""),
            "a link kept request_body"
        );
        let links =
            &doc["paths"]["/v2/agents/{agent_key}/responses"]["post"]["responses"]["200"]["links"];
        assert_eq!(
            links["responses_retrieve"]["operationId"], "responses_retrieve",
            "{links}"
        );
    }
}
