//! Integration tests: the CP against a real libosdp PD (`libosdp`) and
//! against scripted misbehaving peers (`hostile`).
//!
//! The libosdp tests need `python3 -m pip install libosdp==3.2.9`; without it
//! they are skipped with a note on stderr, unless `CI` is set, in which case
//! they fail.

mod hostile;
mod libosdp;
mod pd;
mod proxy;
