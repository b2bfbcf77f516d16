package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command, with its streams given, so that tests run it
// in process. It returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "plan":
		err = planCmd(args[1:], stdout, stderr)
	case "ci-matrix":
		err = ciMatrixCmd(args[1:], stdout, stderr)
	case "report":
		err = reportCmd(args[1:], stdout, stderr)
	case "install":
		err = installCmd(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "matrixbox: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	switch err.(type) {
	case nil:
		return 0
	case usageError:
		fmt.Fprintf(stderr, "matrixbox %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "matrixbox %s: %v\n", args[0], err)
		return 1
	}
}

type usageError struct{ error }

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  matrixbox plan [-run regexp] [packages]          the cells and cases of each package; runs nothing
  matrixbox ci-matrix [-shards N] [-format F] [-timings f]...  shards for GitHub Actions or GitLab
  matrixbox report [-html f] [-junit f] results/*.jsonl        merge shard reports into a grid
  matrixbox install [-list] [default | all | component@version ...]  build and install the daemons
`)
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("matrixbox "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	return nil
}
