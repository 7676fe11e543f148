package simdconv

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUarchOf checks which row CPUs of each kind match, from what they
// report.
func TestUarchOf(t *testing.T) {
	intel := func(model int, avx512 bool) cpuInfo {
		return cpuInfo{vendor: "GenuineIntel", family: 6, model: model, arch: "amd64", avx512: avx512}
	}
	amd := func(family, model int, avx512 bool) cpuInfo {
		return cpuInfo{vendor: "AuthenticAMD", family: family, model: model, arch: "amd64", avx512: avx512}
	}
	amx := func(c cpuInfo) cpuInfo { c.amx = true; return c }
	for _, tc := range []struct {
		cpu  cpuInfo
		want string
		fma  fmaModel
	}{
		{intel(0x55, true), "Intel Xeon, two 512-bit FMA ports", fmaModel{2, 512}},
		{intel(0x6a, true), "Intel Xeon, two 512-bit FMA ports", fmaModel{2, 512}},
		{intel(0x8f, true), "Intel Xeon, two 512-bit FMA ports", fmaModel{2, 512}},
		{intel(0xcf, true), "Intel Xeon, two 512-bit FMA ports", fmaModel{2, 512}},
		{intel(0xad, true), "Intel Xeon, two 512-bit FMA ports", fmaModel{2, 512}},
		{intel(0x8c, true), "Intel client, one 512-bit FMA port", fmaModel{1, 512}},     // Tiger Lake
		{intel(0xa7, true), "Intel client, one 512-bit FMA port", fmaModel{1, 512}},     // Rocket Lake
		{amx(intel(0xa7, true)), "Intel Xeon, two 512-bit FMA ports", fmaModel{2, 512}}, // a Xeon under KVM
		{amx(intel(0xa7, false)), "x86 with AVX2, no AVX-512", fmaModel{2, 256}},
		{intel(0xcf, false), "x86 with AVX2, no AVX-512", fmaModel{2, 256}}, // GODEBUG=cpu.avx512=off
		{intel(0x97, false), "x86 with AVX2, no AVX-512", fmaModel{2, 256}}, // Alder Lake
		{amd(0x1a, 0x02, true), "AMD Zen 5", fmaModel{2, 512}},
		{amd(0x1a, 0x44, true), "AMD Zen 5", fmaModel{2, 512}},
		{amd(0x1a, 0x24, true), "AMD Zen 5, 256-bit datapath", fmaModel{2, 256}}, // Strix Point
		{amd(0x19, 0x11, true), "AMD Zen 4", fmaModel{2, 256}},
		{amd(0x19, 0x01, false), "x86 with AVX2, no AVX-512", fmaModel{2, 256}}, // Zen 3
		{cpuInfo{vendor: "CentaurHauls", family: 7, arch: "amd64", avx512: true}, "unknown CPU", fmaModel{}},
		{cpuInfo{arch: "arm64"}, "arm64 NEON", fmaModel{2, 128}},
		{cpuInfo{arch: "riscv64"}, "unknown CPU", fmaModel{}},
	} {
		u := uarchOf(tc.cpu)
		require.Equal(t, tc.want, u.name, "%+v", tc.cpu)
		require.Equal(t, tc.fma, u.fma, u.name)
	}
}

// TestUarchTiles checks that every row's AVX-512 tile has its kernels in
// the table, so that the kernel set a row picks is whole, and that the
// default row, whose tile serves rows without one, has one.
func TestUarchTiles(t *testing.T) {
	_, amd64Kernels := isaNeeds(isaAVX512)
	for _, u := range uarchs {
		require.True(t, u.l2Part > 0 && u.l3Part > 0, u.name)
		if u.tile512 == (tile{}) || !amd64Kernels {
			continue
		}
		found := map[family]bool{}
		for _, k := range kernelTable[1:] {
			if k.isa == isaAVX512 && !k.study && !k.edge && k.ofTile(u.tile512) {
				found[k.family] = true
			}
		}
		for _, f := range []family{famSgemm, famSgemmPack, famSgemmPrefetch} {
			require.True(t, found[f], "%s: no kernel of family %d for tile %v", u.name, f, u.tile512)
		}
	}
	require.NotEqual(t, tile{}, uarchs[len(uarchs)-1].tile512, "the default row has no AVX-512 tile")
	if amd64Kernels {
		require.Equal(t, avx512Tile(), tile{tileOf(isaAVX512).mr, tileOf(isaAVX512).nr})
	}
}
