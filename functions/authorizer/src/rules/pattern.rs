//! Path patterns and method sets: what a rule, a request and an HTTP API route key denote.
//!
//! A path is its segments between `/`s (`/` is one empty segment, `/a/b` is `a`, `b`). A
//! [`PathPattern`] is a list of segments, each literal or [`Segment::Any`] (exactly one segment,
//! any characters but `/`), optionally followed by a tail that matches one or more further
//! segments. Both are what API Gateway's evaluation of a method-ARN policy does with a `*`: one
//! that is not the resource's last character stays within its segment, a last one matches
//! everything to its right (AWS's own example `<api>/*/*/petstorewalkthrough/pets` is "any stage,
//! any method, that one path"). So a pattern renders into a policy resource
//! ([`PathPattern::render`]) that matches exactly the paths the pattern matches — the property
//! the cache safety of [`super::policy`] rests on.
//!
//! Because every pattern is segment-shaped, matching, intersection and containment are exact
//! segment-by-segment comparisons, with no backtracking.

use std::fmt::{self, Write as _};

/// One segment of a [`PathPattern`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    /// Exactly one segment, whatever it holds.
    Any,
}

impl Segment {
    fn matches(&self, segment: &str) -> bool {
        match self {
            Self::Literal(literal) => literal == segment,
            Self::Any => true,
        }
    }

    /// Some segment matches both.
    fn meets(&self, other: &Segment) -> bool {
        match (self, other) {
            (Self::Literal(a), Self::Literal(b)) => a == b,
            _ => true,
        }
    }

    /// Every segment `inner` matches, `self` matches.
    fn covers(&self, inner: &Segment) -> bool {
        match (self, inner) {
            (Self::Any, _) => true,
            (Self::Literal(a), Self::Literal(b)) => a == b,
            (Self::Literal(_), Self::Any) => false,
        }
    }
}

/// A set of paths: `segments`, then, when `tail`, one or more segments of anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    segments: Vec<Segment>,
    tail: bool,
}

impl PathPattern {
    pub fn new(segments: Vec<Segment>, tail: bool) -> Self {
        Self { segments, tail }
    }

    /// Every path: `/*`.
    pub fn everything() -> Self {
        Self::new(Vec::new(), true)
    }

    /// Exactly one path, taken literally (`*` in a request path is just a character).
    pub fn exact(path: &str) -> Self {
        Self::new(
            split(path)
                .map(|s| Segment::Literal(s.to_owned()))
                .collect(),
            false,
        )
    }

    pub fn is_everything(&self) -> bool {
        self.segments.is_empty() && self.tail
    }

    /// Whether the concrete `path` (which starts with `/`) is in the set.
    pub fn matches(&self, path: &str) -> bool {
        self.matches_segments(&segments(path))
    }

    /// [`Self::matches`] for a path already split by [`segments`] (a decision splits the
    /// request's path once, not once per pattern).
    pub fn matches_segments(&self, path: &[&str]) -> bool {
        // The tail needs at least one more segment; without one there must be none.
        let long_enough = if self.tail {
            path.len() > self.segments.len()
        } else {
            path.len() == self.segments.len()
        };
        long_enough
            && self
                .segments
                .iter()
                .zip(path)
                .all(|(pattern, segment)| pattern.matches(segment))
    }

    /// Some path is in both sets.
    pub fn intersects(&self, other: &PathPattern) -> bool {
        let (a, b) = (&self.segments, &other.segments);
        let common = a.len().min(b.len());
        if !a[..common]
            .iter()
            .zip(&b[..common])
            .all(|(x, y)| x.meets(y))
        {
            return false;
        }
        match (self.tail, other.tail) {
            (false, false) => a.len() == b.len(),
            // The tail takes one or more segments: the other's longer part must be there.
            (true, false) => b.len() > a.len(),
            (false, true) => a.len() > b.len(),
            (true, true) => true,
        }
    }

    /// Every path of `inner` is in `self`.
    pub fn contains(&self, inner: &PathPattern) -> bool {
        let (outer_len, inner_len) = (self.segments.len(), inner.segments.len());
        let long_enough = match (self.tail, inner.tail) {
            (false, false) => inner_len == outer_len,
            (false, true) => false,
            (true, false) => inner_len > outer_len,
            (true, true) => inner_len >= outer_len,
        };
        long_enough
            && self
                .segments
                .iter()
                .zip(&inner.segments)
                .all(|(outer, inner)| outer.covers(inner))
    }

    /// The pattern as a method-ARN resource suffix: `/a/*/b`, `/a/b/*`, `/` (the root), `/*`.
    pub fn render(&self, out: &mut String) {
        for segment in &self.segments {
            out.push('/');
            match segment {
                Segment::Literal(literal) => out.push_str(literal),
                Segment::Any => out.push('*'),
            }
        }
        if self.tail {
            out.push_str("/*");
        } else if self.segments.is_empty() {
            out.push('/');
        }
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let mut out = String::new();
        self.render(&mut out);
        f.write_str(&out)
    }
}

/// The segments of a path that starts with `/` (the root is one empty segment).
fn split(path: &str) -> std::str::Split<'_, char> {
    path.strip_prefix('/').unwrap_or(path).split('/')
}

/// The segments of a path that starts with `/`, for [`PathPattern::matches_segments`].
pub fn segments(path: &str) -> Vec<&str> {
    split(path).collect()
}

/// A set of HTTP methods, the ones a REST API routes (`ANY` is all seven).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Methods(u8);

/// In the order a method ARN spells them.
const METHODS: [&str; 7] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

impl Methods {
    pub const ALL: Methods = Methods((1 << METHODS.len()) - 1);
    pub const NONE: Methods = Methods(0);

    /// One method by its exact (upper-case) name.
    pub fn named(name: &str) -> Option<Methods> {
        METHODS
            .iter()
            .position(|m| *m == name)
            .map(|i| Methods(1 << i))
    }

    pub fn union(self, other: Methods) -> Methods {
        Methods(self.0 | other.0)
    }

    pub fn intersects(self, other: Methods) -> bool {
        self.0 & other.0 != 0
    }

    pub fn contains(self, other: Methods) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The method-ARN spellings: `*` for all of them (a `*` that is not last stays within the
    /// method's segment), else each name.
    pub fn render(self) -> Vec<&'static str> {
        if self == Self::ALL {
            return vec!["*"];
        }
        METHODS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, m)| *m)
            .collect()
    }
}

impl fmt::Display for Methods {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for (i, name) in self.render().iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test notation: `*` is [`Segment::Any`], a trailing `/*` the tail.
    fn p(text: &str) -> PathPattern {
        if text == "/*" {
            return PathPattern::everything();
        }
        let (body, tail) = match text.strip_suffix("/*") {
            Some(body) => (body, true),
            None => (text, false),
        };
        let segments = split(body)
            .map(|s| match s {
                "*" => Segment::Any,
                s => Segment::Literal(s.to_owned()),
            })
            .collect();
        PathPattern::new(segments, tail)
    }

    #[test]
    fn matching_is_per_segment_and_the_tail_takes_one_or_more() {
        let cases = [
            ("/api/*", "/api/x", true),
            ("/api/*", "/api/x/y", true),
            ("/api/*", "/api/", true),
            ("/api/*", "/api", false),
            ("/api/*", "/apix/y", false),
            ("/api/*/items", "/api/7/items", true),
            ("/api/*/items", "/api/7/8/items", false),
            ("/api/*/items", "/api/7/items/9", false),
            ("/", "/", true),
            ("/", "/x", false),
            ("/*", "/", true),
            ("/*", "/a/b", true),
            ("/a/b", "/a/b", true),
            ("/a/b", "/a/b/", false),
            ("/a/b", "/A/b", false),
        ];
        for (pattern, path, expected) in cases {
            assert_eq!(p(pattern).matches(path), expected, "{pattern} {path}");
        }
        assert!(PathPattern::exact("/a/*").matches("/a/*"));
        assert!(!PathPattern::exact("/a/*").matches("/a/b"));
    }

    #[test]
    fn intersection_and_containment_agree_with_matching_on_every_sample() {
        let patterns = [
            "/*",
            "/",
            "/api",
            "/api/*",
            "/api/*/items",
            "/api/admin/*",
            "/api/admin",
            "/*/admin/*",
            "/other/*",
            "/api/*/*",
        ];
        let paths = [
            "/",
            "/api",
            "/api/",
            "/api/x",
            "/api/admin",
            "/api/admin/x",
            "/api/7/items",
            "/api/7/items/x",
            "/x/admin/y",
            "/other",
            "/other/a/b",
            "/api/a/b",
        ];
        for a in patterns {
            for b in patterns {
                let (pa, pb) = (p(a), p(b));
                let shared = paths.iter().any(|q| pa.matches(q) && pb.matches(q));
                if shared {
                    assert!(pa.intersects(&pb), "{a} ∩ {b} holds a sample");
                }
                assert_eq!(pa.intersects(&pb), pb.intersects(&pa), "{a} {b}");
                if pa.contains(&pb) {
                    for q in paths {
                        assert!(!pb.matches(q) || pa.matches(q), "{a} ⊇ {b} but not {q}");
                    }
                }
            }
        }
        let exact = [
            ("/api/*", "/api/admin/*", true, true),
            ("/api/admin/*", "/api/*", true, false),
            ("/api/*", "/api", false, false),
            ("/api/*/items", "/api/admin/*", true, false),
            ("/*", "/", true, true),
            ("/api/admin", "/api/*", true, false),
            ("/other/*", "/api/*", false, false),
        ];
        for (a, b, meets, contains) in exact {
            assert_eq!(p(a).intersects(&p(b)), meets, "{a} ∩ {b}");
            assert_eq!(p(a).contains(&p(b)), contains, "{a} ⊇ {b}");
        }
    }

    #[test]
    fn patterns_render_as_method_arn_suffixes() {
        for text in ["/*", "/", "/api/*", "/api/*/items", "/a/b"] {
            assert_eq!(p(text).to_string(), text);
        }
    }

    #[test]
    fn methods_render_as_the_arn_spells_them() {
        let get_post = Methods::named("GET")
            .unwrap()
            .union(Methods::named("POST").unwrap());
        assert_eq!(get_post.render(), ["GET", "POST"]);
        assert_eq!(Methods::ALL.render(), ["*"]);
        assert_eq!(Methods::named("get"), None);
        assert!(Methods::ALL.contains(get_post) && !get_post.contains(Methods::ALL));
        assert!(!Methods::named("PUT").unwrap().intersects(get_post));
    }
}
