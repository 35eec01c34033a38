//! Reading this device: the quick facts, then the agent, put together into one
//! [`DeviceIdentity`].

use super::*;

/// What an OS reader learned about the hardware serial.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SerialReading {
    /// Every serial seen, in preference order (Type 1, Type 3, Type 2 on SMBIOS).
    pub candidates: Vec<SerialCandidate>,
    /// The hypervisor the firmware's vendor/product names, if any.
    pub model_platform: Option<&'static str>,
    /// Sources that failed.
    pub problems: Vec<IdentityProblem>,
}

impl SerialReading {
    /// The candidates and hypervisor hint of a decoded SMBIOS table.
    pub fn from_smbios(serials: &smbios::SmbiosSerials) -> Self {
        Self {
            candidates: smbios::candidates(serials),
            model_platform: serial::virtual_platform_from_model(
                serials.system_vendor.as_deref().unwrap_or_default(),
                serials.system_product.as_deref().unwrap_or_default(),
            ),
            problems: Vec::new(),
        }
    }
}

/// What an OS reader learned about the SentinelOne agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentReading {
    /// What showed the agent is installed; `None` when nothing did.
    pub installed: Option<String>,
    /// The agent UUID as printed.
    pub uuid: Option<Sourced>,
    /// The agent version.
    pub version: Option<Sourced>,
    /// The management console URL.
    pub management_url: Option<Sourced>,
    /// The agent's own state.
    pub state: AgentState,
    /// Sources that failed.
    pub problems: Vec<IdentityProblem>,
}

/// Runs a read-only query of the agent's tool and parses its output; a failure
/// of either becomes a problem for `source` (e.g. `sentinelctl version`).
pub fn run_query<T, E: std::fmt::Display>(
    fact: Fact,
    program: &Program,
    query: command::Query,
    source: &str,
    parse: fn(&str) -> Result<T, E>,
) -> Result<T, IdentityProblem> {
    let output = program
        .run(query)
        .map_err(|e| IdentityProblem::from_command(fact, source, &e))?;
    parse(&output).map_err(|e| IdentityProblem::unparsable(fact, source, &e))
}

/// Reads this device's identity: serial, agent and host facts. Never fails;
/// whatever could not be read is in `problems`.
pub fn read_identity(sources: &Sources) -> DeviceIdentity {
    let serial = os::read_serial(sources);
    let agent = os::read_agent(sources);
    let running = host::agent_running(os::AGENT_PROCESSES);
    assemble(serial, agent, running, read_host(sources))
}

fn read_host(sources: &Sources) -> host::HostFacts {
    let mut facts = host::read_host();
    facts.host_id = os::read_host_id(sources);
    facts
}

/// Only the facts that are cheap to read: the hardware serial and host facts, no
/// vendor tool and no process scan. Enough to tell that a snapshot belongs to this
/// device on the login path; agent facts are left unknown.
pub fn read_quick(sources: &Sources) -> DeviceIdentity {
    assemble(
        os::read_serial(sources),
        AgentReading::default(),
        None,
        read_host(sources),
    )
}

/// Adds what the quick read leaves out (the agent's identity through its CLI, and
/// whether its process runs) to an identity from [`read_quick`], without reading the
/// serial or host facts again.
pub fn complete(identity: &mut DeviceIdentity, sources: &Sources) {
    let agent = os::read_agent(sources);
    let running = host::agent_running(os::AGENT_PROCESSES);
    identity.apply_agent(agent, running);
}

/// Puts the readings together: the first usable candidate is the serial, any
/// candidate or the firmware model can mark the device virtual.
pub fn assemble(
    serial: SerialReading,
    agent: AgentReading,
    agent_running: Option<bool>,
    host: host::HostFacts,
) -> DeviceIdentity {
    let chosen = serial
        .candidates
        .iter()
        .filter(|c| c.usable)
        .find_map(|c| Some((Serial::parse(&c.value).ok()?, c.source.clone())));
    let platform = serial
        .candidates
        .iter()
        .find_map(|c| serial::virtual_platform(&c.value))
        .or(serial.model_platform);
    let mut problems = serial.problems;
    problems.extend(host.problems);
    let mut identity = DeviceIdentity {
        serial_source: chosen.as_ref().map(|(_, source)| source.clone()),
        serial_number: chosen.map(|(serial, _)| serial),
        serial_candidates: serial.candidates,
        is_virtual: platform.is_some(),
        virtual_platform: platform.map(str::to_owned),
        host_id: host.host_id.as_ref().map(|s| s.value.clone()),
        host_id_source: host.host_id.map(|s| s.source),
        hostname: host.hostname,
        os_type: OsType::current(),
        os_name: host.os_name,
        os_version: host.os_version,
        arch: host.arch,
        problems,
        ..DeviceIdentity::default()
    };
    identity.apply_agent(agent, agent_running);
    identity
}

impl DeviceIdentity {
    fn apply_agent(&mut self, agent: AgentReading, running: Option<bool>) {
        let (agent_uuid, agent_uuid_source) = split(agent.uuid);
        let (agent_version, agent_version_source) = split(agent.version);
        let (management_url, management_url_source) = split(agent.management_url);
        self.agent_installed = agent.installed.is_some();
        self.agent_installed_source = agent.installed;
        self.agent_running = running;
        self.agent_uuid = agent_uuid;
        self.agent_uuid_source = agent_uuid_source;
        self.agent_version = agent_version;
        self.agent_version_source = agent_version_source;
        self.management_url = management_url;
        self.management_url_source = management_url_source;
        self.agent_state = agent.state;
        self.problems.extend(agent.problems);
        // Serial, then agent, then host problems, whichever was read first.
        self.problems.sort_by_key(|p| match p.fact {
            Fact::Serial => 0,
            Fact::Agent => 1,
            Fact::Host => 2,
        });
    }
}

fn split(value: Option<Sourced>) -> (Option<String>, Option<String>) {
    value.map_or((None, None), |v| (Some(v.value), Some(v.source)))
}
