//go:build race

package haproxyadapter

// raceEnabled scales down the largest inputs: the race detector makes
// them an order of magnitude slower.
const raceEnabled = true
