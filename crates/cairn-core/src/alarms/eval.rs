//! The pure alarm decision (spec monitoring.md §3.4): given the datapoints of the evaluation
//! range (oldest → newest, `None` for a missing period), decide the alarm's next state with
//! AWS's M-out-of-N and TreatMissingData semantics, and say which datapoints decided it.

use super::{Comparison, StateValue, TreatMissing};

/// The evaluation range R for N evaluation periods: N plus a few more periods, so that
/// missing datapoints can be skipped (5 for N = 3, as AWS documents).
pub fn range_len(n: usize) -> usize {
    n + (n / 3).max(2)
}

/// What the evaluation needs besides the datapoints.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// N, `EvaluationPeriods`.
    pub n: usize,
    /// M, `DatapointsToAlarm` (N when unset).
    pub m: usize,
    /// The comparison.
    pub op: Comparison,
    /// The threshold.
    pub threshold: f64,
    /// `TreatMissingData`.
    pub treat: TreatMissing,
}

/// One evaluated datapoint: its slot in the range (0 = oldest) and value, or a missing slot
/// filled as breaching or not.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Evaluated {
    /// A real datapoint.
    Real {
        /// Slot index in the range, 0 = oldest.
        slot: usize,
        /// Its value.
        value: f64,
        /// Whether it breaches.
        breaching: bool,
    },
    /// A missing datapoint treated per TreatMissingData.
    Filled {
        /// Treated as breaching.
        breaching: bool,
    },
}

impl Evaluated {
    /// Whether it counts as breaching.
    pub fn breaching(&self) -> bool {
        match self {
            Self::Real { breaching, .. } | Self::Filled { breaching } => *breaching,
        }
    }
}

/// The outcome of one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The state the alarm should be in (the current one when TreatMissingData keeps it).
    pub state: StateValue,
    /// The datapoints that decided, oldest first (empty when nothing was known).
    pub evaluated: Vec<Evaluated>,
    /// Missing periods counted when the state is INSUFFICIENT_DATA or all were filled.
    pub missing: usize,
}

/// Decides the next state from the range's datapoints (oldest → newest).
pub fn decide(rule: &Rule, slots: &[Option<f64>], current: StateValue) -> Decision {
    let n = rule.n.max(1);
    let m = rule.m.clamp(1, n);
    let breach = |v: f64| rule.op.breaches(v, rule.threshold);
    let reals: Vec<Evaluated> = slots
        .iter()
        .enumerate()
        .filter_map(|(slot, v)| {
            v.map(|value| Evaluated::Real {
                slot,
                value,
                breaching: breach(value),
            })
        })
        .collect();
    let alarm_if = |evaluated: Vec<Evaluated>, missing: usize| {
        let breaching = evaluated.iter().filter(|e| e.breaching()).count();
        Decision {
            state: if breaching >= m {
                StateValue::Alarm
            } else {
                StateValue::Ok
            },
            evaluated,
            missing,
        }
    };
    if reals.is_empty() {
        let filled = |breaching| (0..n).map(|_| Evaluated::Filled { breaching }).collect();
        return match rule.treat {
            TreatMissing::Missing => Decision {
                state: StateValue::InsufficientData,
                evaluated: Vec::new(),
                missing: n,
            },
            TreatMissing::Ignore => Decision {
                state: current,
                evaluated: Vec::new(),
                missing: n,
            },
            TreatMissing::Breaching => alarm_if(filled(true), n),
            TreatMissing::NotBreaching => alarm_if(filled(false), n),
        };
    }
    if reals.len() >= n {
        return alarm_if(reals[reals.len() - n..].to_vec(), 0);
    }
    let fill = n - reals.len();
    match rule.treat {
        TreatMissing::Breaching | TreatMissing::NotBreaching => {
            let breaching = rule.treat == TreatMissing::Breaching;
            let mut evaluated: Vec<Evaluated> =
                (0..fill).map(|_| Evaluated::Filled { breaching }).collect();
            evaluated.extend(reals);
            alarm_if(evaluated, fill)
        }
        TreatMissing::Missing | TreatMissing::Ignore => {
            let breaching = reals.iter().filter(|e| e.breaching()).count();
            let good = reals.len() - breaching;
            if breaching >= m {
                return alarm_if(reals, 0);
            }
            if good >= 1 {
                return alarm_if(reals, 0);
            }
            // Only breaching points, fewer than M: ALARM early when the oldest of them is at
            // least M periods old and nothing newer contradicts it (`missing` only).
            let oldest_age = match reals.first() {
                Some(Evaluated::Real { slot, .. }) => slots.len() - slot,
                _ => 0,
            };
            match rule.treat {
                TreatMissing::Missing if oldest_age >= m => Decision {
                    state: StateValue::Alarm,
                    evaluated: reals,
                    missing: 0,
                },
                TreatMissing::Missing => Decision {
                    state: StateValue::InsufficientData,
                    evaluated: reals,
                    missing: fill,
                },
                _ => Decision {
                    state: current,
                    evaluated: reals,
                    missing: fill,
                },
            }
        }
    }
}
