//! Per-route rules: which requirement applies to which route, and what a cached answer may say.
//!
//! `AUTHORIZER_RULES` ([`parse`]) is an ordered list of rules, each a set of methods, a path
//! pattern ([`pattern`]) and a need: `public` (any valid token), `deny` (nobody through this
//! API), or a [`Requirement`] (any-of scopes, any-of groups, both when both are given). The
//! global `AUTHORIZER_REQUIRED_SCOPES` / `AUTHORIZER_REQUIRED_GROUPS` are one more rule, the
//! catch-all `* /*`, always last (`public` when both are empty), so a deployment without rules
//! behaves as before and every route meets some rule.
//!
//! **A request** (REST: method and path from the `methodArn`) gets the verdict of the first
//! rule that matches it. **A set of requests** — an HTTP API route key such as
//! `ANY /api/{proxy+}`, judged as every request it routes, since an HTTP API caches its answer
//! per route key at best; or no route at all — is allowed only if every request in it would be:
//! rules are walked in order, any rule that meets the set and refuses the token denies it, and
//! the first rule that covers the whole set and admits the token allows it.
//!
//! **A REST policy** ([`policy`]) lists, for one principal, exactly the routes it may call, so
//! that API Gateway's cached policy — keyed by the token alone, applied to every route of the
//! stage — gives each route the verdict a fresh decision would.

pub mod parse;
pub mod pattern;
pub mod policy;

use crate::access::{Requirement, Verdict};
use crate::claims::VerifiedToken;
use pattern::{Methods, PathPattern, Segment};
pub use policy::{Policy, PolicyError};

/// What a rule asks of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Nobody may call these routes through this API.
    Deny,
    /// This requirement; none at all is `public`.
    Require(Requirement),
}

impl Need {
    pub fn check(&self, token: &VerifiedToken) -> Verdict {
        match self {
            Need::Deny => Verdict::DenyRoute,
            Need::Require(requirement) => requirement.check(token),
        }
    }

    /// Whether some principal meets `a` and `b` but not `self`.
    pub fn may_refuse_what_both_admit(&self, a: &Need, b: &Need) -> bool {
        let (Need::Require(a), Need::Require(b)) = (a, b) else {
            return false;
        };
        let Need::Require(k) = self else {
            return true;
        };
        // Refused by its scopes: hold a scope of each of a and b that k does not name.
        let escapes = |held: &[String], refused: &[String]| {
            held.is_empty() || held.iter().any(|s| !refused.contains(s))
        };
        let by = |k: &[String], a: &[String], b: &[String]| {
            !k.is_empty() && escapes(a, k) && escapes(b, k)
        };
        by(&k.scopes, &a.scopes, &b.scopes) || by(&k.groups, &a.groups, &b.groups)
    }
}

/// One rule: methods, the paths (one pattern, or two for a subtree and its root), the need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub methods: Methods,
    pub paths: Vec<PathPattern>,
    pub need: Need,
    /// As written, for messages.
    pub text: String,
}

impl Rule {
    /// The catch-all `* /*` with the global requirement.
    pub fn catch_all(requirement: Requirement) -> Self {
        Self {
            methods: Methods::ALL,
            paths: vec![PathPattern::everything()],
            text: "the catch-all `* /*` (AUTHORIZER_REQUIRED_SCOPES / _GROUPS)".into(),
            need: Need::Require(requirement),
        }
    }

    /// Every method and every path.
    pub fn is_universal(&self) -> bool {
        self.methods == Methods::ALL && self.paths.iter().any(PathPattern::is_everything)
    }

    /// Some request matches both rules.
    pub fn overlaps(&self, other: &Rule) -> bool {
        self.methods.intersects(other.methods)
            && self
                .paths
                .iter()
                .any(|a| other.paths.iter().any(|b| a.intersects(b)))
    }

    /// Every request `other` matches, this rule matches.
    pub fn contains(&self, other: &Rule) -> bool {
        self.methods.contains(other.methods)
            && other
                .paths
                .iter()
                .all(|inner| self.paths.iter().any(|outer| outer.contains(inner)))
    }

    /// Some request of the route matches.
    fn meets(&self, route: &Route) -> bool {
        self.methods.intersects(route.methods()) && self.any_path(route, PathPattern::intersects)
    }

    /// Every request of the route matches.
    fn covers(&self, route: &Route) -> bool {
        self.methods.contains(route.methods()) && self.any_path(route, PathPattern::contains)
    }

    /// One of the rule's paths matches the request's path, or stands in `relation` to the
    /// route's path pattern.
    fn any_path(&self, route: &Route, relation: fn(&PathPattern, &PathPattern) -> bool) -> bool {
        match route {
            Route::Request { segments, .. } => {
                self.paths.iter().any(|p| p.matches_segments(segments))
            }
            Route::Routes { path, .. } => self.paths.iter().any(|p| relation(p, path)),
        }
    }
}

/// What a decision is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// One request (REST): its method and its path's segments ([`pattern::segments`]).
    Request {
        method: Methods,
        segments: Vec<&'a str>,
    },
    /// Every request of an HTTP API route, or of the whole API.
    Routes { methods: Methods, path: PathPattern },
}

impl<'a> Route<'a> {
    /// Every route: what a decision without a route is about.
    pub fn everything() -> Self {
        Self::Routes {
            methods: Methods::ALL,
            path: PathPattern::everything(),
        }
    }

    /// `arn:…:<api>/<stage>/<METHOD>/<path>`: the request. A method or path the ARN does not
    /// name clearly widens the route to every method or every path (the stricter verdict).
    pub fn from_method_arn(method_arn: &'a str) -> Self {
        let mut slashes = method_arn.match_indices('/').map(|(i, _)| i);
        let (Some(_), Some(method_start), path_start) =
            (slashes.next(), slashes.next(), slashes.next())
        else {
            return Self::everything();
        };
        let method = match path_start {
            Some(end) => &method_arn[method_start + 1..end],
            None => &method_arn[method_start + 1..],
        };
        match (Methods::named(method), path_start) {
            (Some(method), Some(start)) => Self::Request {
                method,
                segments: pattern::segments(&method_arn[start..]),
            },
            (None, Some(start)) => Self::Routes {
                methods: Methods::ALL,
                path: PathPattern::exact(&method_arn[start..]),
            },
            (method, None) => Self::Routes {
                methods: method.unwrap_or(Methods::ALL),
                path: PathPattern::everything(),
            },
        }
    }

    /// An HTTP API `routeKey`: `$default` (every request), or `<METHOD or ANY> <path>` whose
    /// `{param}` segments are any one segment and a final `{param+}` one or more. Anything
    /// else is read as every request.
    pub fn from_route_key(route_key: &str) -> Self {
        let Some((method, path)) = route_key.split_once(' ') else {
            return Self::everything();
        };
        let methods = match method {
            "ANY" => Methods::ALL,
            name => Methods::named(name).unwrap_or(Methods::ALL),
        };
        let Some(body) = path.strip_prefix('/') else {
            return Self::everything();
        };
        let mut segments: Vec<Segment> = Vec::new();
        let mut parts = body.split('/').peekable();
        let mut tail = false;
        while let Some(part) = parts.next() {
            let is_param = part.starts_with('{') && part.ends_with('}');
            if is_param && part.ends_with("+}") && parts.peek().is_none() {
                tail = true;
            } else if is_param || part.contains(['*', '{', '}']) {
                segments.push(Segment::Any);
            } else {
                segments.push(Segment::Literal(part.to_owned()));
            }
        }
        Self::Routes {
            methods,
            path: PathPattern::new(segments, tail),
        }
    }

    fn methods(&self) -> Methods {
        match self {
            Route::Request { method, .. } => *method,
            Route::Routes { methods, .. } => *methods,
        }
    }
}

/// The configured rules and the catch-all, checked and compiled at cold start.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Each distinct need once, with the rules (bit *i*: rule *i*) that have it: a policy
    /// checks a token against each need once, however many rules share it.
    needs: Vec<(Need, u64)>,
    policy: policy::Compiled,
}

impl RuleSet {
    /// `rules` (from `AUTHORIZER_RULES`) then the catch-all with `global`. Refuses a set whose
    /// policies could not be cached safely, or could grow past the size bound.
    pub fn new(mut rules: Vec<Rule>, global: Requirement) -> Result<Self, PolicyError> {
        rules.push(Rule::catch_all(global));
        let policy = policy::Compiled::new(&rules)?;
        let mut needs: Vec<(Need, u64)> = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            match needs.iter_mut().find(|(need, _)| *need == rule.need) {
                Some((_, mask)) => *mask |= 1 << i,
                None => needs.push((rule.need.clone(), 1 << i)),
            }
        }
        Ok(Self {
            rules,
            needs,
            policy,
        })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The verdict for `token` on `route` (module docs).
    pub fn verdict(&self, token: &VerifiedToken, route: &Route) -> Verdict {
        for rule in &self.rules {
            if !rule.meets(route) {
                continue;
            }
            let verdict = rule.need.check(token);
            if !verdict.is_allow() || rule.covers(route) {
                return verdict;
            }
        }
        // The catch-all covers every route; should that ever change, refuse.
        Verdict::DenyRoute
    }

    /// What `token` may call, as policy statements ([`policy`]).
    pub fn policy(&self, token: &VerifiedToken) -> Policy {
        let allowed = self
            .needs
            .iter()
            .filter(|(need, _)| need.check(token).is_allow())
            .fold(0u64, |allowed, (_, rules)| allowed | rules);
        self.policy.for_allowed(allowed)
    }

    /// The method-ARN resource suffixes of rule `index` (`GET/api/x`, `*/api/x/*`, `*`).
    pub fn resources(&self, index: usize) -> &[String] {
        self.policy.resources(index)
    }
}

#[cfg(test)]
mod tests;
