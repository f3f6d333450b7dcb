INSERT INTO bench_commit_probe DEFAULT VALUES;
