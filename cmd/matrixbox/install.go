package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/matrixbox/matrixbox/internal/daemons"
)

// installCmd installs the daemons of the version table and the packages
// the workers run with.
func installCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("install", stderr)
	list := fs.Bool("list", false, "list the versions matrixbox supports, which are installed, and exit")
	noPkgs := fs.Bool("no-packages", false, "install none of the distribution packages the workers run with (iptables, rootlesskit, ...), only the daemons and what building them needs")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: matrixbox install [-list] [-no-packages] [default | all | component | component@version ...]

Builds the daemons of matrixbox's version table from the Go module proxy
into $%s/<component>/<version> (default %s), installs the
distribution packages the workers run with (apt-get, as root), and sets up
what the rootless workers need. Without arguments it installs the default
set; "all" installs every version. What is installed already is kept.
`, daemons.EnvBin, daemons.DefaultBinDir)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *list {
		return listReleases(stdout)
	}
	releases, err := daemons.Parse(fs.Args())
	if err != nil {
		return usageError{err}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	in := &daemons.Installer{Log: stdout}
	var errs []error
	if !*noPkgs {
		if err := in.Packages(ctx, daemons.RuntimePackages...); err != nil {
			errs = append(errs, err)
		}
	}
	for _, r := range releases {
		if err := in.Install(ctx, r); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	if !*noPkgs {
		if err := in.Setup(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func listReleases(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tVERSION\tSET\tFROM\tINSTALLED\tNOTE")
	for _, r := range daemons.Table {
		from := r.Module + " " + r.ModVersion
		if !r.Built() {
			from = "package " + r.Package
		}
		state := "yes"
		if err := r.Installed(); err != nil {
			state = "no"
		}
		version := r.Version
		if r.Default {
			version += " (default)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Component, version, r.Set, from, state, strings.TrimSpace(r.Note))
	}
	return tw.Flush()
}
