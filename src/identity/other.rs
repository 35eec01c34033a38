//! OSes SentinelOne has no agent for: nothing to read, and each fact says so.

use super::{AgentReading, Fact, SerialReading, Sources, Unsupported};

/// No agent process to look for.
pub const AGENT_PROCESSES: &[&str] = &[];

/// Reports that the serial is not read on this OS.
pub fn read_serial(_sources: &Sources) -> SerialReading {
    SerialReading {
        problems: vec![Unsupported(Fact::Serial).into()],
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
        problems: vec![Unsupported(Fact::Agent).into()],
        ..AgentReading::default()
    }
}
