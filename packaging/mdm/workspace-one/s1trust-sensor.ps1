# Workspace ONE sensor (Windows, response type String): trusted, not_trusted or unknown.
& "C:\Program Files\s1trust\s1trust.exe" check --snapshot --format workspace-one
