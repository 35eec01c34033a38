/*
 * TEST-ONLY stand-in for SentinelOne's SentinelCtl.exe, for running s1trust.exe
 * under Wine. Prints fixed output per command, in the format of the samples in
 * tests/fixtures/sentinelctl/windows-*.txt (with its own UUID and console URL):
 *
 *   SentinelCtl.exe agent_id                  -> the agent UUID alone on a line
 *   SentinelCtl.exe status                    -> status lines, "Monitor Build id: 24.1.2.6+..."
 *   SentinelCtl.exe config server.mgmtServer  -> the console URL in double quotes
 *   anything else (including extra flags)     -> message on stderr, exit 1
 *
 * Extra flags are refused on purpose: `agent_id -r -b -k` resets a real agent's
 * identity, so s1trust must never pass any.
 *
 * stdout is in text mode, so lines end in CRLF as on real Windows.
 * If a file named standin-calls.log exists next to this .exe, every invocation's
 * arguments are appended to it, so tests can see what ran. (A file, not an
 * environment variable: callers such as s1trust rightly clear the environment of
 * the processes they start.)
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -o SentinelCtl.exe sentinelctl_standin.c
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#define AGENT_UUID "3F2B8C1D9A4E4F6B8C7D1E2F3A4B5C6D"
#define MGMT_SERVER "https://usea1-contoso.sentinelone.net"

static const char STATUS[] =
    "Disable State: Not disabled by the user\n"
    "SentinelMonitor is loaded\n"
    "Self-Protection status: On\n"
    "Monitor Build id: 24.1.2.6+8d4abf01154f6752-Release.x64\n"
    "SentinelNetworkMonitor is loaded\n"
    "SentinelAgent is loaded\n"
    "SentinelAgent is running as PPL\n"
    "Mitigation policy: none\n";

static void log_invocation(int argc, char **argv)
{
    char path[MAX_PATH + 32];
    char *slash;
    FILE *f;
    int i;
    DWORD n = GetModuleFileNameA(NULL, path, MAX_PATH);
    if (n == 0 || n >= MAX_PATH || !(slash = strrchr(path, '\\')))
        return;
    strcpy(slash + 1, "standin-calls.log");
    /* Opt-in: only append to a log the test created. */
    if (GetFileAttributesA(path) == INVALID_FILE_ATTRIBUTES || !(f = fopen(path, "a")))
        return;
    fputs("SentinelCtl.exe", f);
    for (i = 1; i < argc; i++)
        fprintf(f, " [%s]", argv[i]);
    fputc('\n', f);
    fclose(f);
}

int main(int argc, char **argv)
{
    int i;
    log_invocation(argc, argv);
    /* Windows command names are case-insensitive; argument counts are exact. */
    if (argc == 2 && _stricmp(argv[1], "agent_id") == 0) {
        puts(AGENT_UUID);
        return 0;
    }
    if (argc == 2 && _stricmp(argv[1], "status") == 0) {
        fputs(STATUS, stdout);
        return 0;
    }
    if (argc == 3 && _stricmp(argv[1], "config") == 0
        && _stricmp(argv[2], "server.mgmtServer") == 0) {
        puts("\"" MGMT_SERVER "\"");
        return 0;
    }
    fputs("SentinelCtl stand-in: unsupported command:", stderr);
    for (i = 1; i < argc; i++)
        fprintf(stderr, " %s", argv[i]);
    fputs("\n(supported: agent_id | status | config server.mgmtServer)\n", stderr);
    return 1;
}
