//! How the gateway prices a query before planning it: the `@listSize` directive of the
//! demand-control specification on list fields, which the composed supergraph carries to the
//! router. A paged field costs `first` (20 when omitted) times what each of its items asks;
//! a list without the directive is assumed to hold the router's `default_list_size`.
//!
//! ```ignore
//! #[graphql(
//!     complexity = "pagination::cost(first, child_complexity)",
//!     directive = subgraph_kit::cost::paged::apply()
//! )]
//! async fn invoices(&self, first: Option<i32>, after: Option<String>) -> Result<Page<Invoice>>
//! ```

use std::borrow::Cow;

use async_graphql::{
    registry::{location_traits::Directive_At_FIELD_DEFINITION, MetaDirectiveInvocation, Registry},
    TypeDirective,
};

/// How many items a list holds, for the gateway's cost estimate before planning (demand
/// control): a constant, or the value of a slicing argument such as `first`.
#[TypeDirective(name = "listSize", location = "FieldDefinition")]
fn list_size(
    assumed_size: Option<i32>,
    slicing_arguments: Option<Vec<String>>,
    sized_fields: Option<Vec<String>>,
    require_one_slicing_argument: Option<bool>,
) {
}

/// A connection paged by `first`: `@listSize(slicingArguments: ["first"], sizedFields:
/// ["edges", "nodes"], requireOneSlicingArgument: false)`.
#[allow(non_camel_case_types)]
pub struct paged;

impl paged {
    pub fn apply() -> MetaDirectiveInvocation {
        list_size::apply(
            None,
            Some(vec!["first".to_owned()]),
            Some(vec!["edges".to_owned(), "nodes".to_owned()]),
            Some(false),
        )
    }
}

/// A list that holds at most about `n` items: `@listSize(assumedSize: n)`.
#[allow(non_camel_case_types)]
pub struct at_most;

impl at_most {
    pub fn apply(n: i32) -> MetaDirectiveInvocation {
        list_size::apply(Some(n), None, None, None)
    }
}

macro_rules! same_directive {
    ($($name:ident),*) => {$(
        impl TypeDirective for $name {
            fn name(&self) -> Cow<'static, str> {
                list_size.name()
            }
            fn register(&self, registry: &mut Registry) {
                list_size.register(registry)
            }
        }
        impl Directive_At_FIELD_DEFINITION for $name {}
    )*};
}
same_directive!(paged, at_most);

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, SDLExportOptions, Schema};

    use super::*;

    struct Query;

    #[Object]
    impl Query {
        #[graphql(directive = paged::apply())]
        async fn things(&self, first: Option<i32>) -> Vec<i32> {
            vec![first.unwrap_or(0)]
        }
        #[graphql(directive = at_most::apply(12))]
        async fn few(&self) -> Vec<i32> {
            Vec::new()
        }
    }

    #[test]
    fn list_fields_carry_list_size_in_the_sdl() {
        let sdl = Schema::new(Query, EmptyMutation, EmptySubscription)
            .sdl_with_options(SDLExportOptions::new().federation());
        assert!(sdl.contains(
            "things(first: Int): [Int!]! @listSize(slicingArguments: [\"first\"], sizedFields: [\"edges\", \"nodes\"], requireOneSlicingArgument: false)"
        ), "{sdl}");
        assert!(
            sdl.contains("few: [Int!]! @listSize(assumedSize: 12)"),
            "{sdl}"
        );
        assert!(sdl.contains("directive @listSize("), "{sdl}");
    }
}
