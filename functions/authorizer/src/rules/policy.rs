//! Turning one principal's verdict per rule into REST policy statements that stay correct in
//! API Gateway's cache.
//!
//! API Gateway caches a REST authorizer's policy under the token and applies it to every route
//! of the stage. IAM evaluation is: an explicit Deny that matches wins; else an Allow that
//! matches allows; else the request is refused. The policy therefore has to give every route
//! the verdict of its first matching rule. With `allowed` the rules this principal meets:
//!
//! - **Allow** lists the routes of every allowed rule (just `<stage>/*` when an allowed rule
//!   covers everything, which subsumes the rest; a rule covered by another listed one is left
//!   out).
//! - **Deny** lists the routes of each refused rule that some *later* allowed rule overlaps:
//!   without it, that later Allow would open what the earlier rule refuses. A refused rule no
//!   later Allow reaches needs no statement: not being allowed is already a refusal.
//! - Nothing allowed at all: one explicit Deny of `<stage>/*`.
//!
//! A rule that an earlier rule contains never decides anything (a catch-all after a `* /*`
//! rule, say): it is left out of all of this.
//!
//! That is exact except in one shape, which [`Compiled::new`] refuses at cold start: rule *i*
//! allowed, a later rule *k* refused that overlaps it, and a still later rule *m* allowed that
//! overlaps *k*. *k*'s Deny is then needed for *m* but would also refuse the part of *i* that
//! *k* overlaps, and an IAM policy cannot say "except". The check is made for every principal
//! that could exist: whether someone can meet *i* and *m* and fail *k* follows from the three
//! needs ([`super::Need::may_refuse_what_both_admit`]).
//!
//! Size: the policy is at most every rule's resources once. A set whose largest policy, with an
//! ARN prefix of [`ASSUMED_PREFIX_BYTES`], would pass [`MAX_POLICY_BYTES`] is refused at cold
//! start. (API Gateway documents an 8 KB policy limit for WebSocket APIs' authorizers only; we
//! keep every API type under it.)

use super::Rule;

/// The largest policy a rule set may produce.
pub const MAX_POLICY_BYTES: usize = 8 * 1024;
/// `arn:aws:execute-api:<region>:<account>:<api>/<stage>/` with a stage name of up to 40
/// characters, for the size bound.
pub const ASSUMED_PREFIX_BYTES: usize = 100;
/// `{"Version":"2012-10-17","Statement":[…]}` and two statements' fixed members.
const FIXED_BYTES: usize = 200;

/// Why a rule set is refused at cold start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "{middle} may refuse, for some principal, routes that {first} before it allows, while \
         {last} after it allows some of {middle}'s routes: a cached IAM policy cannot say that \
         (the Deny of {middle}'s routes that {last} needs would also refuse {first}'s). Narrow \
         one of them, or reorder them"
    )]
    Inexpressible {
        first: String,
        middle: String,
        last: String,
    },
    #[error(
        "the largest policy these rules can produce is about {bytes} bytes, over {MAX_POLICY_BYTES}: \
         merge rules (a method list, a `*` segment, a shorter subtree)"
    )]
    TooLarge { bytes: usize },
    #[error("{rules} rules with the catch-all, over the {MAX} a policy can name")]
    TooMany { rules: usize },
}

/// Rules a policy can name, the catch-all included: one bit each in a `u64`.
pub const MAX: usize = u64::BITS as usize;

/// Which routes one principal may call: bit *i* is rule *i*.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub allow: Allowed,
    /// Rules whose routes get an explicit Deny.
    pub deny: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// The whole stage.
    Stage,
    /// These rules' routes.
    Rules(u64),
    /// Nothing: one explicit Deny of the whole stage.
    Nothing,
}

/// What the policies need, worked out once per rule set.
#[derive(Debug)]
pub struct Compiled {
    /// Each rule's method-ARN resource suffixes.
    resources: Vec<Vec<String>>,
    /// Rules that cover every route.
    universal: u64,
    /// Rules no earlier rule contains: the ones that can decide something.
    live: u64,
    /// For each rule, the later rules it overlaps.
    later_overlaps: Vec<u64>,
    /// For each rule, the other rules that contain it (of two equal ones, the earlier).
    contained_by: Vec<u64>,
}

impl Compiled {
    pub fn new(rules: &[Rule]) -> Result<Self, PolicyError> {
        if rules.len() > MAX {
            return Err(PolicyError::TooMany { rules: rules.len() });
        }
        let live: Vec<bool> = (0..rules.len())
            .map(|m| !(0..m).any(|j| rules[j].contains(&rules[m])))
            .collect();
        check_expressible(rules, &live)?;
        let resources: Vec<Vec<String>> = rules.iter().map(resources).collect();
        let bytes = FIXED_BYTES
            + resources
                .iter()
                .flatten()
                .map(|r| ASSUMED_PREFIX_BYTES + r.len() + 3)
                .sum::<usize>();
        if bytes > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge { bytes });
        }
        let mask = |pred: &dyn Fn(usize) -> bool| {
            (0..rules.len())
                .filter(|&j| pred(j))
                .fold(0u64, |m, j| m | 1 << j)
        };
        Ok(Self {
            universal: mask(&|i| rules[i].is_universal()),
            live: mask(&|i| live[i]),
            later_overlaps: (0..rules.len())
                .map(|k| mask(&|m| m > k && live[m] && rules[k].overlaps(&rules[m])))
                .collect(),
            contained_by: (0..rules.len())
                .map(|i| {
                    mask(&|j| {
                        j != i
                            && rules[j].contains(&rules[i])
                            && (j < i || !rules[i].contains(&rules[j]))
                    })
                })
                .collect(),
            resources,
        })
    }

    pub fn resources(&self, index: usize) -> &[String] {
        &self.resources[index]
    }

    /// The policy of a principal that meets exactly the rules in `allowed`.
    pub fn for_allowed(&self, allowed: u64) -> Policy {
        let allowed = allowed & self.live;
        // Only a live rule can refuse anything: a rule an earlier one contains never decides,
        // and a Deny of its routes would refuse what that earlier rule allows.
        let refused = self.live & !allowed;
        let refused_before_an_allow = (0..self.resources.len())
            .filter(|&k| refused & 1 << k != 0 && self.later_overlaps[k] & allowed != 0)
            .fold(0u64, |m, k| m | 1 << k);
        let allow = if allowed & self.universal != 0 {
            Allowed::Stage
        } else if allowed == 0 {
            Allowed::Nothing
        } else {
            Allowed::Rules(self.prune(allowed))
        };
        Policy {
            allow,
            deny: self.prune(refused_before_an_allow),
        }
    }

    /// `mask` without the rules another rule in it contains: the same routes, fewer resources.
    fn prune(&self, mask: u64) -> u64 {
        (0..self.resources.len())
            .filter(|&i| mask & 1 << i != 0 && self.contained_by[i] & mask == 0)
            .fold(0u64, |m, i| m | 1 << i)
    }
}

/// The rule's routes as method-ARN suffixes: `*` for every route, else method × path.
fn resources(rule: &Rule) -> Vec<String> {
    if rule.is_universal() {
        return vec!["*".to_owned()];
    }
    let mut out = Vec::new();
    for method in rule.methods.render() {
        for path in &rule.paths {
            let mut resource = method.to_owned();
            path.render(&mut resource);
            out.push(resource);
        }
    }
    out
}

fn check_expressible(rules: &[Rule], live: &[bool]) -> Result<(), PolicyError> {
    let name = |i: usize| {
        if i + 1 == rules.len() {
            rules[i].text.clone()
        } else {
            format!("rule {} (`{}`)", i + 1, rules[i].text)
        }
    };
    let meets = |a: usize, b: usize| live[a] && live[b] && rules[a].overlaps(&rules[b]);
    for k in 0..rules.len() {
        for i in (0..k).filter(|&i| meets(i, k)) {
            for m in (k + 1..rules.len()).filter(|&m| meets(k, m)) {
                if rules[k]
                    .need
                    .may_refuse_what_both_admit(&rules[i].need, &rules[m].need)
                {
                    return Err(PolicyError::Inexpressible {
                        first: name(i),
                        middle: name(k),
                        last: name(m),
                    });
                }
            }
        }
    }
    Ok(())
}
