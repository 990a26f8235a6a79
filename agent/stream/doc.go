// Package stream is a streaming scrape-to-wire loop for the Prometheus
// text format: built and tested, not yet used by rwkit agent (which runs
// Prometheus' own scrape loop, see package agent).
package stream
