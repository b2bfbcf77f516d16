package main

import "os"

// The job matrix of four shards, for GitHub Actions' fromJSON.
func Example_ciMatrix() {
	run([]string{"ci-matrix", "-shards", "4"}, os.Stdout, os.Stderr)
	// Output: {"include":[{"shard":"1/4"},{"shard":"2/4"},{"shard":"3/4"},{"shard":"4/4"}]}
}
