package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// cpuID names a CPU model: its name and, where the kernel reports them (x86),
// its family and model numbers. Guests of different generations can carry
// the same name (Zen 4 and Zen 5 KVM guests both say "AMD EPYC"), so the name
// alone does not tell machines apart.
type cpuID struct{ name, family, model string }

func (c cpuID) String() string {
	if c.family == "" && c.model == "" {
		return c.name
	}
	return fmt.Sprintf("%s (family %s, model %s)", c.name, c.family, c.model)
}

// slug is the CPU's part of a file name, such as "amd-epyc-f26-m2".
func (c cpuID) slug() string {
	s := slug(c.name)
	if c.family != "" || c.model != "" {
		s += "-f" + slug(c.family) + "-m" + slug(c.model)
	}
	return s
}

// readCPU reads this CPU's identity from /proc/cpuinfo: "model name" on x86,
// else the first of the fields ARM kernels use; the name is "unknown"
// elsewhere.
func readCPU() cpuID {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return cpuID{name: "unknown"}
	}
	defer f.Close()
	found := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if ok && v != "" && found[k] == "" {
			found[k] = v
		}
	}
	id := cpuID{name: "unknown", family: found["cpu family"], model: found["model"]}
	for _, k := range []string{"model name", "Model", "Hardware", "CPU part"} {
		if v := found[k]; v != "" {
			id.name = v
			break
		}
	}
	return id
}

// slug turns a CPU name into a file-name part: lower-case letters and
// digits joined by single dashes.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

// gitRevision names the checked-out commit, "+dirty" when the tree has
// changes, or "" outside a repository: results are only comparable per
// revision.
func gitRevision() string {
	rev, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(rev))
	if st, err := exec.Command("git", "status", "--porcelain").Output(); err == nil && len(st) > 0 {
		s += "+dirty"
	}
	return s
}

// commandLine rebuilds how the program was started. Under go run the
// binary sits in a temporary go-build directory, so it is shown as
// "go run ./bench" instead.
func commandLine(args []string) string {
	name := filepath.Base(os.Args[0])
	if strings.Contains(os.Args[0], "go-build") {
		name = "go run ./bench"
	}
	parts := []string{name}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$\\*?") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
