"""Reports upward on a public-health incident: initial, progress and final (初次/进程/结案报告)."""
