# Intune custom compliance discovery script (Windows): one line of JSON, judged by rules.json.
& "C:\Program Files\s1trust\s1trust.exe" check --snapshot --format intune
