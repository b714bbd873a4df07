//go:build !race

package haproxyadapter

const raceEnabled = false
