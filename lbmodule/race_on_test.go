//go:build race

package lbmodule

const raceEnabled = true
