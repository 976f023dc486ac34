//! Delivery worker tests over a real store and data dir, with a controllable clock.

mod bounded;
mod final_digest;
mod isolation;
mod nothing_lost;
mod stop_start;
mod support;
mod validation_off;
