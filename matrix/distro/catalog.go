package distro

import (
	"fmt"
	"sort"
	"strings"
)

// PackageFormat is how a distribution packages software.
type PackageFormat string

const (
	Deb PackageFormat = "deb"
	RPM PackageFormat = "rpm"
)

// Distro is one catalog entry.
type Distro struct {
	// ID is the axis value name, e.g. "debian-12".
	ID       string
	Name     string // "Debian"
	Version  string // "12"
	Codename string // "bookworm"; "" when the distribution has none
	// Image is the OCI image reference of the distribution.
	Image  string
	Format PackageFormat
	// Glibc is the glibc version the release ships.
	Glibc GlibcVersion
	// QemuImg is the major.minor of the qemu-img it ships, "" when it
	// depends on the point release or is not known.
	QemuImg string
	// Manager is the package manager command: apt-get, dnf or tdnf.
	Manager string
}

func (d Distro) String() string {
	if d.Codename != "" {
		return fmt.Sprintf("%s %s (%s)", d.Name, d.Version, d.Codename)
	}
	return d.Name + " " + d.Version
}

// IsZero reports whether d is the zero Distro (no distro axis).
func (d Distro) IsZero() bool { return d.ID == "" }

// Refresh is the command that refreshes the package index before
// InstallPackage; nil when the manager needs none.
func (d Distro) Refresh() []string {
	if d.Manager == "apt-get" {
		return []string{"apt-get", "update"}
	}
	return nil
}

// InstallFile is the command that installs the package file at path (a
// .deb or .rpm inside the distribution's filesystem) with its dependencies.
func (d Distro) InstallFile(path string) []string {
	if d.Format == Deb && !strings.Contains(path, "/") {
		// apt-get reads a bare name as a package name, not a file.
		path = "./" + path
	}
	switch d.Manager {
	case "apt-get":
		return []string{"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--no-install-recommends", path}
	default:
		return []string{d.Manager, "install", "-y", path}
	}
}

// InstallPackage is the command that installs packages by name from the
// distribution's repositories (run Refresh first).
func (d Distro) InstallPackage(names ...string) []string {
	switch d.Manager {
	case "apt-get":
		return append([]string{"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--no-install-recommends"}, names...)
	default:
		return append([]string{d.Manager, "install", "-y"}, names...)
	}
}

// QemuImgPackage is the name of the package that ships qemu-img.
func (d Distro) QemuImgPackage() string {
	if d.Format == Deb {
		return "qemu-utils"
	}
	return "qemu-img"
}

func g(s string) GlibcVersion {
	v, err := ParseGlibcVersion(s)
	if err != nil {
		panic(err) // catalog literals only
	}
	return v
}

// catalog holds the known distributions. Glibc and qemu-img versions are
// those of each release's own archive.
var catalog = []Distro{
	{ID: "debian-11", Name: "Debian", Version: "11", Codename: "bullseye", Image: "docker.io/library/debian:bullseye", Format: Deb, Glibc: g("2.31"), QemuImg: "5.2", Manager: "apt-get"},
	{ID: "debian-12", Name: "Debian", Version: "12", Codename: "bookworm", Image: "docker.io/library/debian:bookworm", Format: Deb, Glibc: g("2.36"), QemuImg: "7.2", Manager: "apt-get"},
	{ID: "debian-13", Name: "Debian", Version: "13", Codename: "trixie", Image: "docker.io/library/debian:trixie", Format: Deb, Glibc: g("2.41"), QemuImg: "10.0", Manager: "apt-get"},
	{ID: "ubuntu-22.04", Name: "Ubuntu", Version: "22.04", Codename: "jammy", Image: "docker.io/library/ubuntu:22.04", Format: Deb, Glibc: g("2.35"), QemuImg: "6.2", Manager: "apt-get"},
	{ID: "ubuntu-24.04", Name: "Ubuntu", Version: "24.04", Codename: "noble", Image: "docker.io/library/ubuntu:24.04", Format: Deb, Glibc: g("2.39"), QemuImg: "8.2", Manager: "apt-get"},
	{ID: "fedora-41", Name: "Fedora", Version: "41", Image: "docker.io/library/fedora:41", Format: RPM, Glibc: g("2.40"), QemuImg: "9.1", Manager: "dnf"},
	{ID: "fedora-42", Name: "Fedora", Version: "42", Image: "docker.io/library/fedora:42", Format: RPM, Glibc: g("2.41"), QemuImg: "9.2", Manager: "dnf"},
	// RHEL-family point releases move qemu-kvm (8.2 in 9.4, 9.0 in 9.5,
	// 9.1 in 9.6), so the floating major tags leave QemuImg unknown.
	{ID: "rocky-9", Name: "Rocky Linux", Version: "9", Image: "docker.io/rockylinux/rockylinux:9", Format: RPM, Glibc: g("2.34"), Manager: "dnf"},
	{ID: "rocky-10", Name: "Rocky Linux", Version: "10", Image: "docker.io/rockylinux/rockylinux:10", Format: RPM, Glibc: g("2.39"), Manager: "dnf"},
	{ID: "almalinux-9", Name: "AlmaLinux", Version: "9", Image: "docker.io/library/almalinux:9", Format: RPM, Glibc: g("2.34"), Manager: "dnf"},
	{ID: "almalinux-10", Name: "AlmaLinux", Version: "10", Image: "docker.io/library/almalinux:10", Format: RPM, Glibc: g("2.39"), Manager: "dnf"},
	{ID: "azurelinux-3.0", Name: "Azure Linux", Version: "3.0", Image: "mcr.microsoft.com/azurelinux/base/core:3.0", Format: RPM, Glibc: g("2.38"), Manager: "tdnf"},
}

// Lookup returns the catalog entry with id.
func Lookup(id string) (Distro, error) {
	for _, d := range catalog {
		if d.ID == id {
			return d, nil
		}
	}
	return Distro{}, fmt.Errorf("distro %q is not in the catalog (known: %s)", id, strings.Join(IDs(), ", "))
}

// All returns every catalog entry, in catalog order.
func All() []Distro { return append([]Distro(nil), catalog...) }

// IDs returns the catalog's ids, sorted.
func IDs() []string {
	ids := make([]string, len(catalog))
	for i, d := range catalog {
		ids[i] = d.ID
	}
	sort.Strings(ids)
	return ids
}
