package workers

import (
	"strings"
)

// AttachCommands are ready command lines that reach the backend from a
// shell, made from its environment: buildctl for BUILDKIT_HOST, docker
// for DOCKER_HOST, ctr for CONTAINERD_ADDRESS (in CONTAINERD_NAMESPACE).
// integration's MATRIXBOX_KEEP prints them for a kept sandbox.
func (b *backend) AttachCommands() []string {
	vars := map[string]string{}
	for _, kv := range b.env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	var out []string
	if v := vars["BUILDKIT_HOST"]; v != "" {
		out = append(out, shellLine(toolPath("buildctl"), "--addr", v, "debug", "workers"))
	}
	if v := vars["DOCKER_HOST"]; v != "" {
		out = append(out, shellLine(toolPath("docker"), "--host", v, "ps", "--all"))
	}
	if v := vars["CONTAINERD_ADDRESS"]; v != "" {
		args := []string{toolPath("ctr"), "--address", v}
		if ns := vars["CONTAINERD_NAMESPACE"]; ns != "" {
			args = append(args, "--namespace", ns)
		}
		out = append(out, shellLine(append(args, "containers", "list")...))
	}
	return out
}

// toolPath is where lookBinary finds name, else the bare name.
func toolPath(name string) string {
	if p, err := lookBinary(name); err == nil {
		return p
	}
	return name
}

// shellLine joins args into a line a POSIX shell reads back as args.
func shellLine(args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
