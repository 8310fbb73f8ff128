//! `file.method` names parse, and every malformed name gets its own clear error.

use proptest::prelude::*;
use scf_handler::{HandlerSpec, HandlerSpecError};

#[test]
fn seed_handler_names_parse_into_file_and_method() {
    let spec = HandlerSpec::parse("index.main_handler").unwrap();
    assert_eq!((spec.file(), spec.method()), ("index", "main_handler"));
    let spec: HandlerSpec = "index.handler".parse().unwrap();
    assert_eq!((spec.file(), spec.method()), ("index", "handler"));
    assert_eq!(spec.to_string(), "index.handler");
}

#[test]
fn file_part_may_name_a_sub_folder_and_method_splits_at_the_last_dot() {
    let spec = HandlerSpec::parse("src/api/users.create").unwrap();
    assert_eq!((spec.file(), spec.method()), ("src/api/users", "create"));
    let spec = HandlerSpec::parse("my.module.handler").unwrap();
    assert_eq!((spec.file(), spec.method()), ("my.module", "handler"));
}

#[test]
fn each_malformed_name_has_its_own_error() {
    let cases: Vec<(&str, HandlerSpecError)> = vec![
        ("", HandlerSpecError::Empty),
        ("index", HandlerSpecError::MissingDot("index".into())),
        (".main", HandlerSpecError::EmptyFile(".main".into())),
        ("index.", HandlerSpecError::EmptyMethod("index.".into())),
        (
            "/abs/index.main",
            HandlerSpecError::AbsolutePath("/abs/index.main".into()),
        ),
        (
            "../up.main",
            HandlerSpecError::ParentDir("../up.main".into()),
        ),
        (
            "a/../b.main",
            HandlerSpecError::ParentDir("a/../b.main".into()),
        ),
        (
            "a//b.main",
            HandlerSpecError::EmptySegment("a//b.main".into()),
        ),
        (
            "in:dex.main",
            HandlerSpecError::InvalidFileChar {
                handler: "in:dex.main".into(),
                ch: ':',
            },
        ),
        (
            "in\0dex.main",
            HandlerSpecError::InvalidFileChar {
                handler: "in\0dex.main".into(),
                ch: '\0',
            },
        ),
        (
            "index.main-handler",
            HandlerSpecError::InvalidMethod {
                handler: "index.main-handler".into(),
                method: "main-handler".into(),
            },
        ),
        (
            "index.1main",
            HandlerSpecError::InvalidMethod {
                handler: "index.1main".into(),
                method: "1main".into(),
            },
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(HandlerSpec::parse(input), Err(expected), "{input:?}");
    }
}

#[test]
fn error_messages_say_what_is_wrong_and_what_is_right() {
    assert_eq!(
        HandlerSpec::parse("index").unwrap_err().to_string(),
        r#"handler "index" has no `.`: expected `file.method`, e.g. `index.main_handler`"#
    );
    assert_eq!(
        HandlerSpec::parse("../x.main").unwrap_err().to_string(),
        r#"handler "../x.main" contains `..`: the file must stay inside the code directory"#
    );
    assert_eq!(
        HandlerSpec::parse("/x.main").unwrap_err().to_string(),
        r#"handler "/x.main" names an absolute path: the file must be relative to the code directory"#
    );
}

proptest! {
    #[test]
    fn valid_names_round_trip_through_display(
        file in "[a-z][a-z0-9_]{0,8}(/[a-z][a-z0-9_]{0,8}){0,2}",
        method in "[a-z_][a-z0-9_]{0,12}",
    ) {
        let name = format!("{file}.{method}");
        let spec = HandlerSpec::parse(&name).unwrap();
        prop_assert_eq!(spec.file(), file.as_str());
        prop_assert_eq!(spec.method(), method.as_str());
        prop_assert_eq!(spec.to_string(), name);
    }

    #[test]
    fn parsing_never_panics(s in ".*") {
        let _ = HandlerSpec::parse(&s);
    }
}
