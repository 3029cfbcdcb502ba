//! What a request may carry, checked once it is parsed and before anything runs, in every
//! subgraph alike — so a subgraph reached directly is no weaker than through the gateway:
//!
//! - no string argument or variable holds a character [`crate::text::refused_character`]
//!   refuses (NUL, control characters, bidirectional overrides): `VALIDATION`, naming where;
//! - at most [`MAX_ALIASES`] aliases in the document (the gateway's own limit);
//! - at most one of the subgraph's *single* fields per operation (core's `login`, `signUp`…,
//!   which must never be multiplied by aliases into a thousand password guesses);
//! - at most [`MAX_SUBSCRIPTIONS_PER_CONNECTION`] subscriptions open at once on one
//!   WebSocket connection (`RATE_LIMITED` beyond).
//!
//! Depth and complexity are the schema's own limits ([`crate::graphql::schema`]).

use std::sync::Arc;

use async_graphql::{
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextSubscribe},
    parser::types::{ExecutableDocument, Selection, SelectionSet},
    Pos, Positioned, Response, ServerError, ServerResult, Value, Variables,
};
use futures::{stream::BoxStream, StreamExt};

use crate::{
    error::{coded, validation, ErrorCode},
    text::refused_text,
};

/// Most aliases a document may hold (the gateway's `limits.max_aliases`).
pub const MAX_ALIASES: usize = 30;

/// Most subscriptions one WebSocket connection holds open at once. The gateway shares one
/// connection to a subgraph among the subscriptions of the same token, so this is also what
/// one token may hold open through the gateway.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 20;

/// The subscriptions a connection may still open (in its connection data).
#[derive(Debug, Clone)]
pub struct SubscriptionSlots(Arc<tokio::sync::Semaphore>);

impl Default for SubscriptionSlots {
    fn default() -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new(
            MAX_SUBSCRIPTIONS_PER_CONNECTION,
        )))
    }
}

/// The request guard; `single` names the root fields an operation may select once at most.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    single: Arc<[&'static str]>,
}

impl Guard {
    /// Guards text and aliases.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also allows each of `fields` once per operation, and only one of them.
    #[must_use]
    pub fn single(fields: &[&'static str]) -> Self {
        Self {
            single: fields.into(),
        }
    }
}

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

/// `error` as a refusal of the document, located at `pos` when known.
fn as_refusal(error: async_graphql::Error, pos: Option<Pos>) -> ServerError {
    let mut refused = ServerError::new(error.message, pos);
    refused.extensions = error.extensions;
    refused
}

/// A `VALIDATION` refusal of the whole document.
fn refuse(message: String, pos: Option<Pos>) -> ServerError {
    as_refusal(coded(ErrorCode::Validation, message), pos)
}

#[async_trait::async_trait]
impl Extension for Guard {
    /// Holds one of the connection's [`SubscriptionSlots`] while the subscription runs.
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let Some(SubscriptionSlots(slots)) = ctx.data_opt::<SubscriptionSlots>() else {
            return next.run(ctx, stream);
        };
        match slots.clone().try_acquire_owned() {
            Ok(slot) => next
                .run(ctx, stream)
                .map(move |response| {
                    let _held = &slot;
                    response
                })
                .boxed(),
            Err(_) => {
                let refused = as_refusal(
                    coded(
                        ErrorCode::RateLimited,
                        format!(
                            "a connection holds {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions \
                             at most: end one first"
                        ),
                    ),
                    None,
                );
                futures::stream::once(async move { Response::from_errors(vec![refused]) }).boxed()
            }
        }
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        for (name, value) in variables.iter() {
            check_value(&format!("${name}"), value, None)?;
        }
        let document = next.run(ctx, query, variables).await?;
        let mut aliases = 0;
        for (_, operation) in document.operations.iter() {
            walk(&operation.node.selection_set, &mut aliases)?;
            let single: Vec<&Positioned<_>> = operation
                .node
                .selection_set
                .node
                .items
                .iter()
                .filter_map(|item| match &item.node {
                    Selection::Field(field) => Some(field),
                    _ => None,
                })
                .filter(|field| self.single.contains(&field.node.name.node.as_str()))
                .collect();
            if let [_, second, ..] = single.as_slice() {
                return Err(refuse(
                    format!(
                        "an operation may hold one of {} at most, once",
                        self.single.join(", ")
                    ),
                    Some(second.pos),
                ));
            }
        }
        for fragment in document.fragments.values() {
            walk(&fragment.node.selection_set, &mut aliases)?;
        }
        if aliases > MAX_ALIASES {
            return Err(refuse(
                format!("a document may hold {MAX_ALIASES} aliases at most"),
                None,
            ));
        }
        Ok(document)
    }
}

/// Checks the arguments of every field below `set` and counts its aliases.
fn walk(set: &Positioned<SelectionSet>, aliases: &mut usize) -> ServerResult<()> {
    for item in &set.node.items {
        match &item.node {
            Selection::Field(field) => {
                if field.node.alias.is_some() {
                    *aliases += 1;
                }
                for (name, value) in &field.node.arguments {
                    // Variables are checked on their own: here they stand for null.
                    let literal = value
                        .node
                        .clone()
                        .into_const_with(|_| Ok::<_, ()>(Value::Null))
                        .unwrap_or(Value::Null);
                    let at = format!("{}.{}", field.node.name.node, name.node);
                    check_value(&at, &literal, Some(value.pos))?;
                }
                walk(&field.node.selection_set, aliases)?;
            }
            Selection::InlineFragment(fragment) => walk(&fragment.node.selection_set, aliases)?,
            Selection::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

/// Refuses a string anywhere in `value` (object keys included) that holds a refused character.
fn check_value(at: &str, value: &Value, pos: Option<Pos>) -> ServerResult<()> {
    let mut refusal = None;
    visit_strings(value, at, &mut |field, text| {
        if refusal.is_none() {
            refusal = refused_text(text).map(|reason| (field.to_owned(), reason));
        }
    });
    match refusal {
        None => Ok(()),
        Some((field, reason)) => Err(as_refusal(
            validation(&field, format!("`{field}` {reason}")),
            pos,
        )),
    }
}

fn visit_strings(value: &Value, path: &str, visit: &mut dyn FnMut(&str, &str)) {
    match value {
        Value::String(text) => visit(path, text),
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                visit_strings(item, &format!("{path}[{i}]"), visit);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let path = format!("{path}.{key}");
                visit(&path, key.as_str());
                visit_strings(item, &path, visit);
            }
        }
        _ => {}
    }
}
