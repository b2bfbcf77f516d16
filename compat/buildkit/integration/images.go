package integration

import (
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/distribution/reference"
)

// EnvStandIns names the variable that gives images a stand-in source:
// "name=source,name2=source2", each name as a suite names the image
// ("alpine:latest", "amd64/debian:bullseye-20230109-slim") and each source
// one that matrixbox's mirror understands ("recipe:busybox",
// "oci-layout:/path", a registry reference). An image that cannot be had
// offline can then run with a named substitute; every Run logs the
// stand-ins it uses.
const EnvStandIns = "MATRIXBOX_COMPAT_STANDINS"

// builtinSources are the official images BuildKit's suites mirror that
// matrixbox's mirror makes offline, without a stand-in: busybox (the
// official image's tree around busybox compiled from Debian's source),
// busybox:stable-musl (the same, linked against musl) and alpine:latest
// (that musl busybox in Alpine 3.17's tree, with /etc/alpine-release and
// an /sbin/apk that installs nothing: the tests that install packages
// need the real image).
var builtinSources = map[string]string{
	"busybox:latest":      "recipe:busybox",
	"busybox:stable-musl": "recipe:busybox?libc=musl",
	"alpine:latest":       "recipe:alpine",
}

// OfficialImages returns the mirror entries for Docker official images
// ("busybox:latest"): "library/<name>" from the image of this
// architecture's namespace on Docker Hub (docker.io/amd64/busybox:latest),
// as BuildKit's harness copies them. busybox:latest, busybox:stable-musl
// and alpine:latest come from matrixbox's offline recipes instead, and a
// stand-in from MATRIXBOX_COMPAT_STANDINS replaces any of them when a Run
// mirrors it.
func OfficialImages(names ...string) map[string]string {
	ns := runtime.GOARCH
	switch ns {
	case "amd64":
	case "arm64":
		ns = "arm64v8"
	default:
		ns = "library"
	}
	m := make(map[string]string, len(names))
	for _, name := range names {
		src := "docker.io/" + ns + "/" + name
		if s, ok := builtinSources[name]; ok {
			src = s
		}
		m["library/"+name] = src
	}
	return m
}

// mirrorSources applies the stand-ins of MATRIXBOX_COMPAT_STANDINS to
// images and describes each one used.
func mirrorSources(images map[string]string) (map[string]string, []string, error) {
	standIns, err := parseStandIns(os.Getenv(EnvStandIns))
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]string, len(images))
	var used []string
	for _, name := range slices.Sorted(maps.Keys(images)) {
		out[name] = images[name]
		key, err := familiar(name)
		if err != nil {
			return nil, nil, fmt.Errorf("mirrored image %q: %w", name, err)
		}
		if s, ok := standIns[key]; ok {
			out[name] = s
			used = append(used, fmt.Sprintf("%s from %s instead of %s (%s)", name, s, images[name], EnvStandIns))
		}
	}
	return out, used, nil
}

// parseStandIns reads "name=source,...", keyed by familiar name.
func parseStandIns(v string) (map[string]string, error) {
	m := map[string]string{}
	for _, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, src, ok := strings.Cut(entry, "=")
		if !ok || strings.TrimSpace(src) == "" {
			return nil, fmt.Errorf("%s: entry %q: want name=source, e.g. alpine:latest=recipe:busybox", EnvStandIns, entry)
		}
		key, err := familiar(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("%s: entry %q: %w", EnvStandIns, entry, err)
		}
		m[key] = strings.TrimSpace(src)
	}
	return m, nil
}

// familiar is an image name as docker prints it: library/alpine:latest and
// docker.io/library/alpine are both alpine:latest.
func familiar(name string) (string, error) {
	n, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return "", err
	}
	return reference.FamiliarString(reference.TagNameOnly(n)), nil
}
