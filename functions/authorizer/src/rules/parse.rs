//! `AUTHORIZER_RULES`: the grammar, read once at cold start.
//!
//! ```text
//! rules   = rule *( ( ";" / newline ) rule )     ; blank rules are skipped
//! rule    = methods SP path SP need              ; tokens separated by spaces or tabs
//! methods = "*" / "ANY" / method *( "," method ) ; GET POST PUT PATCH DELETE HEAD OPTIONS
//! path    = "/" / 1*( "/" segment )              ; a segment is "*" or 1*( ALPHA / DIGIT / -._~!&'()+=:@% )
//! need    = "public" / "deny" / req [ SP req ]
//! req     = ( "scopes=" / "groups=" ) name *( "," name )
//! ```
//!
//! For example `* /api/v2/authz/role_assignments/global/* groups=portal-admins;
//! POST,PUT,PATCH,DELETE /api/v2/authz/roles/* groups=portal-admins`.
//!
//! A final `/*` covers the path before it and everything below it (`/api/admin/*` is
//! `/api/admin` and `/api/admin/…`, so a rule protecting a subtree protects its root too); `/*`
//! alone is every path; a `*` segment anywhere else is exactly one segment. A `*` inside a
//! segment, `?`, `$`, `{` and `}` are refused: API Gateway's policy evaluation reads the first
//! two as wildcards of its own and the others as policy variables. A name is a scope or a
//! group: no whitespace, `,` or `;`.
//!
//! At most [`MAX_RULES`] rules in at most [`MAX_BYTES`] bytes (Lambda allows 4 KB for all of a
//! function's variables together). Anything else fails the cold start with the rule's position.

use portal_auth_runtime::ConfigError;

use super::pattern::{Methods, PathPattern, Segment};
use super::{Need, Rule};
use crate::access::Requirement;

pub const VARIABLE: &str = "AUTHORIZER_RULES";
/// Rules after which the catch-all still fits the 64-bit verdict masks.
pub const MAX_RULES: usize = 63;
/// Lambda's limit for all of a function's environment variables together.
pub const MAX_BYTES: usize = 4096;

/// The rules of `AUTHORIZER_RULES`, in order.
pub fn parse(raw: &str) -> Result<Vec<Rule>, ConfigError> {
    if raw.len() > MAX_BYTES {
        return Err(ConfigError::invalid(
            VARIABLE,
            format!("longer than {MAX_BYTES} bytes"),
        ));
    }
    let texts: Vec<&str> = raw
        .split([';', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if texts.len() > MAX_RULES {
        return Err(ConfigError::invalid(
            VARIABLE,
            format!("more than {MAX_RULES} rules"),
        ));
    }
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            rule(text).map_err(|why| {
                ConfigError::invalid(VARIABLE, format!("rule {} (`{}`): {why}", i + 1, text))
            })
        })
        .collect()
}

fn rule(text: &str) -> Result<Rule, String> {
    let mut tokens = text.split_whitespace();
    let (Some(methods), Some(path)) = (tokens.next(), tokens.next()) else {
        return Err("expected `<methods> <path> <need>`".into());
    };
    let needs: Vec<&str> = tokens.collect();
    Ok(Rule {
        methods: self::methods(methods)?,
        paths: self::path(path)?,
        need: need(&needs)?,
        text: text.to_owned(),
    })
}

fn methods(token: &str) -> Result<Methods, String> {
    if token == "*" || token == "ANY" {
        return Ok(Methods::ALL);
    }
    token.split(',').try_fold(Methods::NONE, |set, name| {
        Methods::named(name).map(|m| set.union(m)).ok_or_else(|| {
            format!(
                "`{name}` is not a method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY or *)"
            )
        })
    })
}

/// The path's patterns: one, or two for a final `/*` (the subtree's root and what is below).
fn path(token: &str) -> Result<Vec<PathPattern>, String> {
    if token == "/*" {
        return Ok(vec![PathPattern::everything()]);
    }
    if token == "/" {
        return Ok(vec![PathPattern::exact("/")]);
    }
    let Some(body) = token.strip_prefix('/') else {
        return Err("the path must start with `/`".into());
    };
    let (body, tail) = match body.strip_suffix("/*") {
        Some(body) => (body, true),
        None => (body, false),
    };
    let segments = body
        .split('/')
        .map(segment)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if tail {
        vec![
            PathPattern::new(segments.clone(), false),
            PathPattern::new(segments, true),
        ]
    } else {
        vec![PathPattern::new(segments, false)]
    })
}

fn segment(text: &str) -> Result<Segment, String> {
    const ALLOWED: &str = "-._~!&'()+=:@%";
    if text == "*" {
        Ok(Segment::Any)
    } else if text.is_empty() {
        Err("empty path segment (`//` or a trailing `/`)".into())
    } else if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ALLOWED.contains(*c)))
    {
        Err(format!(
            "`{bad}` in a path segment (`*` stands only as a whole segment; `?`, `$`, `{{`, `}}` never)"
        ))
    } else {
        Ok(Segment::Literal(text.to_owned()))
    }
}

fn need(tokens: &[&str]) -> Result<Need, String> {
    match tokens {
        [] => Err("no need: `public`, `deny`, `scopes=…` or `groups=…`".into()),
        ["public"] => Ok(Need::Require(Requirement::default())),
        ["deny"] => Ok(Need::Deny),
        _ => {
            let mut requirement = Requirement::default();
            for token in tokens {
                let (kind, names) = token.split_once('=').ok_or_else(|| {
                    format!("`{token}`: expected `public`, `deny`, `scopes=…` or `groups=…`")
                })?;
                let slot = match kind {
                    "scopes" => &mut requirement.scopes,
                    "groups" => &mut requirement.groups,
                    _ => return Err(format!("`{kind}=`: expected `scopes=` or `groups=`")),
                };
                if !slot.is_empty() {
                    return Err(format!("`{kind}=` given twice"));
                }
                *slot = names_of(kind, names)?;
            }
            Ok(Need::Require(requirement))
        }
    }
}

fn names_of(kind: &str, names: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> = names.split(',').map(str::to_owned).collect();
    if list.iter().any(String::is_empty) {
        return Err(format!("`{kind}=` with an empty name"));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let rules = parse(
            "* /api/v2/authz/role_assignments/global/* groups=portal-admins;\n\
             POST,PUT,PATCH,DELETE /api/v2/authz/roles/* groups=portal-admins",
        )
        .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].methods, Methods::ALL);
        assert_eq!(rules[0].paths.len(), 2, "the subtree and its root");
        assert_eq!(rules[1].methods.to_string(), "DELETE,PATCH,POST,PUT");
        assert_eq!(
            rules[1].need,
            Need::Require(Requirement::new(vec![], vec!["portal-admins".into()]))
        );
    }

    #[test]
    fn every_form_of_need_and_separator_is_read() {
        let rules = parse(
            " GET /a public ;; ANY / deny\n\tDELETE /b/*/c scopes=x,y  groups=g \n; HEAD /* scopes=s ;",
        )
        .unwrap();
        let needs: Vec<&Need> = rules.iter().map(|r| &r.need).collect();
        assert_eq!(
            needs,
            [
                &Need::Require(Requirement::default()),
                &Need::Deny,
                &Need::Require(Requirement::new(
                    vec!["x".into(), "y".into()],
                    vec!["g".into()]
                )),
                &Need::Require(Requirement::new(vec!["s".into()], vec![])),
            ]
        );
        assert_eq!(rules[2].paths[0].to_string(), "/b/*/c");
        assert_eq!(rules[3].paths, [PathPattern::everything()]);
        assert_eq!(rules[1].paths[0].to_string(), "/");
    }

    #[test]
    fn a_malformed_rule_is_refused_with_its_position_and_why() {
        let cases = [
            ("GET", "rule 1", "expected `<methods> <path> <need>`"),
            ("GET /a", "rule 1", "no need"),
            (
                "GET /a public; get /b public",
                "rule 2",
                "`get` is not a method",
            ),
            (
                "GET /a public; GET b public",
                "rule 2",
                "must start with `/`",
            ),
            ("GET /a//b public", "rule 1", "empty path segment"),
            ("GET /a/ public", "rule 1", "empty path segment"),
            ("GET /a* public", "rule 1", "`*` in a path segment"),
            ("GET /a/?x public", "rule 1", "`?` in a path segment"),
            ("GET /${x} public", "rule 1", "`$` in a path segment"),
            ("GET /{proxy+} public", "rule 1", "`{` in a path segment"),
            ("GET /a public deny", "rule 1", "`public`: expected"),
            ("GET /a roles=x", "rule 1", "`roles=`: expected"),
            ("GET /a scopes=x scopes=y", "rule 1", "given twice"),
            ("GET /a groups=", "rule 1", "empty name"),
            ("GET /a groups=a,,b", "rule 1", "empty name"),
            ("GET,PUSH /a public", "rule 1", "`PUSH` is not a method"),
        ];
        for (raw, position, why) in cases {
            let message = parse(raw).unwrap_err().to_string();
            assert!(message.contains(VARIABLE), "{raw}: {message}");
            assert!(message.contains(position), "{raw}: {message}");
            assert!(message.contains(why), "{raw}: {message}");
        }
    }

    #[test]
    fn the_size_limits_hold() {
        let many = vec!["GET /a public"; MAX_RULES + 1].join(";");
        assert!(parse(&many).unwrap_err().to_string().contains("more than"));
        assert_eq!(
            parse(&vec!["GET /a public"; MAX_RULES].join(";"))
                .unwrap()
                .len(),
            MAX_RULES
        );
        let long = format!("GET /{} public", "a".repeat(MAX_BYTES));
        assert!(
            parse(&long)
                .unwrap_err()
                .to_string()
                .contains("longer than")
        );
    }
}
