//! The invocation's `context` as the JSON of the `x-scf-context` header, made once per
//! function: from one invocation to the next only the request id changes, so the rest is
//! serialized once into a template and each invocation copies the request id into it.

use scf_context::Context;

/// A function's `context` JSON around its request id, kept between invocations: only the
/// request id changes from one to the next, so the rest is serialized once.
#[derive(Debug)]
pub(crate) struct ContextTemplate {
    /// The context it was made from, with an empty request id.
    key: Context,
    head: String,
    tail: String,
}

/// Whether `id` stands in JSON as it is (a uuid does), so it can go between the template's
/// quotes without escaping.
fn plain_request_id(id: &str) -> bool {
    id.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether two contexts serialize the same but for the request id.
fn same_but_request_id(a: &Context, b: &Context) -> bool {
    a.memory_limit_in_mb == b.memory_limit_in_mb
        && a.time_limit_in_ms == b.time_limit_in_ms
        && a.environment == b.environment
        && a.environ == b.environ
        && a.function_version == b.function_version
        && a.function_name == b.function_name
        && a.namespace == b.namespace
        && a.tencentcloud_region == b.tencentcloud_region
        && a.tencentcloud_appid == b.tencentcloud_appid
        && a.tencentcloud_uin == b.tencentcloud_uin
}

impl ContextTemplate {
    /// A template for contexts like `ctx`; `None` if the request id cannot be found again
    /// in its JSON.
    fn new(ctx: &Context) -> Option<Self> {
        const MARK: &str = "scf-request-id-mark";
        let mut key = ctx.clone();
        key.request_id = MARK.to_owned();
        let json = context_json(&key);
        let quoted = format!("\"request_id\":\"{MARK}\"");
        let at = json.find(&quoted)? + quoted.len() - MARK.len() - 1;
        let head = json[..at].to_owned();
        let tail = json[at + MARK.len()..].to_owned();
        key.request_id.clear();
        Some(Self { key, head, tail })
    }

    fn render(&self, request_id: &str) -> String {
        let mut out = String::with_capacity(self.head.len() + request_id.len() + self.tail.len());
        out.push_str(&self.head);
        out.push_str(request_id);
        out.push_str(&self.tail);
        out
    }
}

/// The context as JSON with every non-ASCII character escaped, fit for a header value.
pub(crate) fn context_json(ctx: &Context) -> String {
    let json = serde_json::to_string(ctx).unwrap_or_else(|_| "{}".to_owned());
    if json.is_ascii() {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// `ctx` as JSON, from `kept` when only the request id differs from the context it was
/// made from (`kept` is replaced otherwise).
pub(crate) fn render(kept: &mut Option<ContextTemplate>, ctx: &Context) -> String {
    if !plain_request_id(&ctx.request_id) {
        return context_json(ctx);
    }
    if !kept
        .as_ref()
        .is_some_and(|t| same_but_request_id(&t.key, ctx))
    {
        *kept = ContextTemplate::new(ctx);
    }
    match kept.as_ref() {
        Some(template) => template.render(&ctx.request_id),
        None => context_json(ctx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scf_context::FunctionConfig;

    #[test]
    fn the_template_renders_what_serde_writes() {
        let mut config = FunctionConfig::new("héllo");
        config
            .environment
            .insert("GREETING".into(), "grüß \"dich\"".into());
        let mut kept = None;
        for id in [
            "a4c1c3a6-0d5e-4f0e-9d7b-1f1f1f1f1f1f",
            "b-2",
            "weird \"id\" ü",
        ] {
            let ctx = Context::new(&config, id);
            assert_eq!(render(&mut kept, &ctx), context_json(&ctx), "{id}");
        }
        let other = Context::new(&FunctionConfig::new("other"), "c-3");
        assert_eq!(render(&mut kept, &other), context_json(&other));
        assert!(render(&mut kept, &other).is_ascii());
    }
}
