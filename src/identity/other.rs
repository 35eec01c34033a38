//! OSes SentinelOne has no agent for: nothing to read, and each fact says so.

use super::{AgentReading, Fact, IdentityProblem, SerialReading, Sources};

/// No agent process to look for.
pub const AGENT_PROCESSES: &[&str] = &[];

const UNSUPPORTED: &str = "s1trust reads the device identity on macOS, Windows and Linux only";

/// Reports that the serial is not read on this OS.
pub fn read_serial(_sources: &Sources) -> SerialReading {
    SerialReading {
        problems: vec![
            IdentityProblem::new(Fact::Serial, std::env::consts::OS, "not_present")
                .detail(UNSUPPORTED),
        ],
        ..SerialReading::default()
    }
}

/// No machine identity is known for this OS.
pub fn read_host_id(_sources: &Sources) -> Option<super::Sourced> {
    None
}

/// Reports that the agent is not read on this OS.
pub fn read_agent(_sources: &Sources) -> AgentReading {
    AgentReading {
        problems: vec![
            IdentityProblem::new(Fact::Agent, std::env::consts::OS, "not_present")
                .detail(UNSUPPORTED),
        ],
        ..AgentReading::default()
    }
}
