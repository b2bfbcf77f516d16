// Package repoconfig reads matrixbox.yaml, the per-repo configuration of
// integration.Run: [Find] finds the file (MATRIXBOX_CONFIG, else the
// nearest matrixbox.yaml up to the module root), [Load] reads and checks
// it, and [Parse] turns it into a [File], every error naming the file, the
// line and the key. Applying a File to a Run is integration's; the
// README's "Configuration" section describes each key.
package repoconfig
