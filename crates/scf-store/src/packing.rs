//! A record's log text packed for storage: what the SCF framing repeats, stored once.
//!
//! The framed log of an invocation carries its request id on every line (`START`, each
//! user line, `Response`/`ERROR`, `END`, `Report`: five times or more) and the return
//! value (or error JSON) a second time in its `Response` (`ERROR`) line, and the framing
//! words are the same in every record. [`pack_log`] stores the return value as the mark
//! `\u{2}`, the request id as `\u{1}`, and each of the framing phrases in [`PHRASES`]
//! as a mark of its own, so that a store keeps about 300 bytes fewer per record of the
//! invoker's (see `docs/performance.md`). [`unpack_log`] gives back the exact text.
//!
//! Packing is exact or not done: a log that already holds one of the marks, a request id
//! or return value holding one, or a log holding NUL (which the stores' SQL text
//! functions stop at) is stored as it is, and every packed text is checked to unpack to
//! the original before it is used. A store keeps which form a row is in (a column), and
//! can unpack in SQL too (nested `replace`: [`PHRASES`] first, in order, then the request
//! id, then the return value), to search the text ([`LogQuery::keyword`](crate::LogQuery::keyword)).

/// The mark standing for the request id.
pub const REQUEST_ID_MARK: char = '\u{1}';
/// The mark standing for the return value (`RetMsg`).
pub const RET_MSG_MARK: char = '\u{2}';

/// The framing phrases and their marks, in the order [`pack_log`] replaces them (after
/// the request id and return value became their marks); unpacking replaces them back in
/// this order too (no phrase holds another's mark).
pub const PHRASES: [(char, &str); 7] = [
    ('\u{3}', "START RequestId:\u{1}\n"),
    (
        '\u{4}',
        "\nEND RequestId:\u{1}\nReport RequestId:\u{1} Duration:",
    ),
    ('\u{5}', "Response RequestId:\u{1} RetMsg:\u{2}\n"),
    ('\u{6}', "ERROR RequestId:\u{1} Result:\u{2}\n"),
    ('\u{7}', "\t\u{1}\t[INFO]\t"),
    ('\u{8}', "ms Memory:"),
    ('\u{e}', "MB MemUsage:"),
];

fn is_mark(c: char) -> bool {
    c == REQUEST_ID_MARK || c == RET_MSG_MARK || c == '\0' || PHRASES.iter().any(|(m, _)| *m == c)
}

/// `log` packed (see the [module docs](self)), or `None` when packing would not be exact
/// or would save nothing: then the store keeps `log` as it is.
pub fn pack_log(log: &str, request_id: &str, ret_msg: &str) -> Option<String> {
    if log.chars().any(is_mark) || request_id.chars().any(is_mark) || ret_msg.chars().any(is_mark) {
        return None;
    }
    let mut s = if ret_msg.len() > 1 {
        log.replace(ret_msg, "\u{2}")
    } else {
        log.to_owned()
    };
    if !request_id.is_empty() {
        s = s.replace(request_id, "\u{1}");
    }
    for (mark, phrase) in PHRASES {
        s = s.replace(phrase, mark.encode_utf8(&mut [0; 4]));
    }
    (s.len() < log.len() && unpack_log(&s, request_id, ret_msg) == log).then_some(s)
}

/// The log text `packed` (by [`pack_log`] with the same request id and return value)
/// stands for.
pub fn unpack_log(packed: &str, request_id: &str, ret_msg: &str) -> String {
    let mut s = packed.to_owned();
    for (mark, phrase) in PHRASES.iter().rev() {
        if s.contains(*mark) {
            s = s.replace(*mark, phrase);
        }
    }
    s.replace(REQUEST_ID_MARK, request_id)
        .replace(RET_MSG_MARK, ret_msg)
}

/// `phrase` as a SQL string expression: runs of text as quoted literals, every control
/// character through `chr` (SQLite's `char(n)`, PostgreSQL's `chr(n)`), joined by `||`.
pub fn sql_text(phrase: &str, chr: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut run = String::new();
    for c in phrase.chars() {
        if c.is_control() {
            if !run.is_empty() {
                parts.push(format!("'{}'", run.replace('\'', "''")));
                run.clear();
            }
            parts.push(format!("{chr}({})", u32::from(c)));
        } else {
            run.push(c);
        }
    }
    if !run.is_empty() || parts.is_empty() {
        parts.push(format!("'{}'", run.replace('\'', "''")));
    }
    format!("({})", parts.join(" || "))
}

/// The SQL expression that unpacks `packed` (a text expression), with `request_id` and
/// `ret_msg` the text expressions of the row's request id and return value: the same
/// steps as [`unpack_log`]. `chr` is the dialect's character function (`char` or `chr`).
pub fn unpack_sql(packed: &str, request_id: &str, ret_msg: &str, chr: &str) -> String {
    let mut s = packed.to_owned();
    for (mark, phrase) in PHRASES.iter().rev() {
        s = format!(
            "replace({s}, {chr}({}), {})",
            u32::from(*mark),
            sql_text(phrase, chr)
        );
    }
    format!("replace(replace({s}, {chr}(1), {request_id}), {chr}(2), {ret_msg})")
}
