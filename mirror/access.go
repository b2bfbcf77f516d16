package mirror

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// access is what the mirror's server lets a client do: read, and read only
// what this process declared, the images its Ensure calls made present
// (a Run's WithMirroredImages, an image a worker or a kit ensures): each
// declared tag answers the manifest Ensure recorded for it, whatever the
// tag's link on disk says by then, and a blob or manifest is served by
// digest only in a repository of a declared image that holds it. Anything
// else is refused with an error that names the image and the fix, and
// noted, so that a Run can fail on it on every machine alike: a daemon
// falls back to the image's own registry after the mirror refuses, which
// succeeds where that registry can be reached.
type access struct {
	root string // the registry's storage directory
	logf func(format string, args ...any)

	mu sync.Mutex
	// tags: repository → tag → the manifest recorded for it.
	tags map[string]map[string]digest.Digest
	// digests: repository → the blobs and manifests of its declared images.
	digests map[string]map[digest.Digest]bool
	refused []Refusal
	// moved holds the tags found pointing elsewhere on disk, named once.
	moved map[string]bool
	// shared, when set, lists what the other test processes serving the
	// same fixed port declared (see declaredFiles).
	shared *declaredFiles
}

func newAccess(root string, logf func(string, ...any)) *access {
	return &access{root: root, logf: logf, tags: map[string]map[string]digest.Digest{}, digests: map[string]map[digest.Digest]bool{}, moved: map[string]bool{}}
}

// Refusal is a request the mirror's server refused: an image that no Run
// of the test process declared, or a write.
type Refusal struct {
	// Image is what was asked for, e.g. "docker.io/library/alpine:latest"
	// or "docker.io/library/alpine@sha256:…"; "" for a write.
	Image  string
	Method string
	Path   string
	At     time.Time
}

func (r Refusal) String() string {
	if r.Image == "" {
		return fmt.Sprintf("%s %s: the mirror is read-only", r.Method, r.Path)
	}
	return fmt.Sprintf("%s (%s %s): no Run of this test process declared it; declare it with integration.WithMirroredImages(map[string]string{%q: source}), the source a recipe (\"recipe:busybox\"), a directory (\"rootfs:DIR\") or the image's own reference, so that every machine pulls it from the mirror alike",
		r.Image, r.Method, r.Path, declaredName(r.Image))
}

// declare adds rec's image to what the server serves.
func (a *access) declare(rec record) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.declareLocked(rec.Repo, rec.Tag, rec.Digest, rec.Blobs)
	if a.shared != nil {
		a.shared.write(a.tags, a.digests, a.logf)
	}
}

func (a *access) declareLocked(repo, tag string, d digest.Digest, blobs []blobRecord) {
	if a.tags[repo] == nil {
		a.tags[repo] = map[string]digest.Digest{}
		a.digests[repo] = map[digest.Digest]bool{}
	}
	a.tags[repo][tag] = d
	a.digests[repo][d] = true
	for _, b := range blobs {
		a.digests[repo][b.Digest] = true
	}
}

// handle answers a request it refuses, or passes it on to next, a tag
// request rewritten to the digest recorded for the tag.
func (a *access) handle(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		a.note(Refusal{Method: r.Method, Path: r.URL.Path, At: time.Now()})
		w.Header().Set("Allow", "GET, HEAD")
		registryError(w, r, http.StatusMethodNotAllowed, "UNSUPPORTED",
			"matrixbox mirror: read-only: it serves the images matrixbox copied in (integration.WithMirroredImages, Mirror.Ensure) and takes no "+r.Method+"; push to a registry of the test's own (sb.NewRegistry())")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	switch {
	case r.URL.Path == "/v2" || ok && rest == "":
		next.ServeHTTP(w, r)
		return
	case !ok:
		registryError(w, r, http.StatusNotFound, "NAME_UNKNOWN", "matrixbox mirror: not a registry API path: "+r.URL.Path)
		return
	case rest == "_catalog":
		a.mu.Lock()
		repos := a.repos()
		a.mu.Unlock()
		writeJSON(w, r, map[string]any{"repositories": repos})
		return
	}
	repo, kind, ref := splitAPIPath(rest)
	switch kind {
	case "tags":
		if tags := a.tagsOf(repo); tags != nil {
			writeJSON(w, r, map[string]any{"name": repo, "tags": tags})
			return
		}
	case "manifests", "blobs", "referrers":
		if d, err := digest.Parse(ref); err == nil {
			if a.has(repo, d) {
				next.ServeHTTP(w, r)
				return
			}
			a.refuse(w, r, imageName(repo)+"@"+ref)
			return
		}
		if kind != "manifests" {
			break
		}
		if d, ok := a.tagged(repo, ref); ok {
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/v2/" + repo + "/manifests/" + d.String()
			r2.URL.RawPath = ""
			next.ServeHTTP(w, r2)
			return
		}
		a.refuse(w, r, imageName(repo)+":"+ref)
		return
	}
	a.refuse(w, r, imageName(repo))
}

// splitAPIPath splits "<repo>/manifests/<ref>", "<repo>/blobs/<digest>",
// "<repo>/referrers/<digest>" and "<repo>/tags/list"; kind is "" for any
// other path. Repository components and references hold no "..".
func splitAPIPath(rest string) (repo, kind, ref string) {
	if strings.Contains(rest, "..") {
		return rest, "", ""
	}
	if repo, ok := strings.CutSuffix(rest, "/tags/list"); ok {
		return repo, "tags", ""
	}
	for _, k := range []string{"manifests", "blobs", "referrers"} {
		if i := strings.LastIndex(rest, "/"+k+"/"); i > 0 {
			ref := rest[i+len(k)+2:]
			if ref != "" && !strings.Contains(ref, "/") {
				return rest[:i], k, ref
			}
		}
	}
	return rest, "", ""
}

// tagged returns the manifest recorded for repo:tag, by this process or,
// on a shared port, another; a tag whose link on disk names another
// manifest is named, once, in the log.
func (a *access) tagged(repo, tag string) (digest.Digest, bool) {
	a.mu.Lock()
	d, ok := a.tags[repo][tag]
	a.mu.Unlock()
	if !ok && a.shared != nil {
		d, ok = a.shared.tagged(repo, tag)
	}
	if !ok {
		return "", false
	}
	link, err := os.ReadFile(filepath.Join(a.root, "docker/registry/v2/repositories", repo, "_manifests/tags", tag, "current/link"))
	if got := strings.TrimSpace(string(link)); err == nil && got != d.String() {
		a.mu.Lock()
		first := !a.moved[repo+":"+tag]
		a.moved[repo+":"+tag] = true
		a.mu.Unlock()
		if first {
			a.logf("mirror: tag %s:%s points at %s on disk, not at %s, which this process recorded; the mirror serves %s", repo, tag, got, d, d)
		}
	}
	return d, true
}

// has reports whether d is a blob or manifest of an image declared in repo.
func (a *access) has(repo string, d digest.Digest) bool {
	a.mu.Lock()
	ok := a.digests[repo][d]
	a.mu.Unlock()
	if !ok && a.shared != nil {
		ok = a.shared.has(repo, d)
	}
	return ok
}

// tagsOf lists the declared tags of repo, sorted; nil when none.
func (a *access) tagsOf(repo string) []string {
	a.mu.Lock()
	var tags []string
	for t := range a.tags[repo] {
		tags = append(tags, t)
	}
	a.mu.Unlock()
	if a.shared != nil {
		tags = append(tags, a.shared.tagsOf(repo)...)
	}
	slices.Sort(tags)
	return slices.Compact(tags)
}

func (a *access) repos() []string {
	repos := make([]string, 0, len(a.tags))
	for r := range a.tags {
		repos = append(repos, r)
	}
	slices.Sort(repos)
	return repos
}

func (a *access) refuse(w http.ResponseWriter, r *http.Request, image string) {
	ev := Refusal{Image: image, Method: r.Method, Path: r.URL.Path, At: time.Now()}
	a.note(ev)
	// 403, not 404: a client moves on from a 404 to the image's own
	// registry without a word, and this message would be lost.
	registryError(w, r, http.StatusForbidden, "DENIED", "matrixbox mirror: "+ev.String())
}

func (a *access) note(ev Refusal) {
	a.mu.Lock()
	a.refused = append(a.refused, ev)
	a.mu.Unlock()
	a.logf("mirror: refused %s", ev)
}

// refusedSince describes, once each, the images refused at or after t.
func (a *access) refusedSince(t time.Time) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	seen := map[string]bool{}
	for _, ev := range a.refused {
		if ev.At.Before(t) || ev.Image == "" || seen[ev.Image] {
			continue
		}
		seen[ev.Image] = true
		out = append(out, ev.String())
	}
	return out
}

// imageName is the image a repository of the mirror holds, with its
// registry: "library/busybox" is docker.io's, "ghcr.io/owner/x" ghcr.io's
// (see RepoPrefix).
func imageName(repo string) string {
	first, rest, ok := strings.Cut(repo, "/")
	if ok && (strings.ContainsAny(first, "._") || first == "localhost") {
		return strings.ReplaceAll(first, "_", ":") + "/" + rest
	}
	return DockerHub + "/" + repo
}

// declaredName is the target name under which WithMirroredImages
// declares image: docker.io's without its host, with a tag.
func declaredName(image string) string {
	name, _, _ := strings.Cut(image, "@")
	name = strings.TrimPrefix(name, DockerHub+"/")
	if i := strings.LastIndex(name, ":"); i < 0 || strings.Contains(name[i:], "/") {
		name += ":latest"
	}
	return name
}

// registryError answers with the registry API's error body (none for
// HEAD, which carries no body).
func registryError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"code": code, "message": msg}}})
	}
}

func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(v)
	}
}
