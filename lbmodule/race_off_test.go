//go:build !race

package lbmodule

const raceEnabled = false
