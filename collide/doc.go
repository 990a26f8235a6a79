// Package collide finds series that more than one writer would write.
//
// Two processes that push the same series (same metric name, same labels)
// to one remote-write backend collide: the first sample for a timestamp is
// stored and the others are refused (AMP and Cortex: new-value-for-timestamp;
// Prometheus: "duplicate sample for timestamp"), or, when their timestamps
// differ, silently interleaved into one nonsensical series. Find runs before
// a deploy, on the series each writer would send, and names every shared
// series, its writers, and the label that would tell them apart.
//
//	auth, _, err := gather.Convert(authFamilies, gather.Options{Timestamp: 1})
//	// ... one conversion per writer ...
//	rep := collide.Find([]collide.Writer{
//		{Name: "auth", Series: auth.Series},
//		{Name: "bff", Series: bff.Series},
//	})
//	for _, c := range rep.Collisions {
//		fmt.Println(c.Labels, c.Writers) // [{__name__ jvm_threads_live_threads}] [auth bff]
//	}
//	fmt.Println(rep.Suggest, rep.Advice) // [service] give every writer its own "service" ...
//
// Load does the reading for a check before a deploy: each writer's
// exposition from a file, a reader, or a /metrics URL (scraped, at most 8 at
// once), converted as rwkit push would convert it, with the labels push
// would add. ParseSource reads a writer given as [NAME=]SOURCE, as rwkit
// collide takes one:
//
//	src, err := collide.ParseSource("auth=http://10.0.1.23:8080/q/metrics")
//	// ... one Source per writer ...
//	writers, err := collide.Load(ctx, nil, []collide.Source{src, bff})
//	rep := collide.Find(writers) // rep.Result: collisions, duplicates or none
//
// FindSources does both for expositions too large to hold together (rwkit
// collide uses it): it reads the sources one at a time, a text exposition
// in a stream (gather.StreamText), and keeps of each writer only what Find
// keeps, so its memory is about 110 bytes per distinct series plus the
// Report, not the expositions. FindSourcesCompact returns what it found
// as a Found instead of a Report: each shared series as a reference to its
// encoded labels and to its writers, about 20 bytes, from which Found gives
// the Report, one Collision at a time, or the Report's JSON written as it
// goes (what rwkit collide prints, never holding the whole Report).
//
// A Report encodes to the JSON rwkit collide --output json prints; label
// sets are objects, {"__name__":"up","env":"prod"}.
//
// Find encodes each series' sorted label set once into an arena and hashes
// it (hash/maphash) into one map, so its cost is linear in the total number
// of series, not in the number of writer pairs; a hash match is confirmed
// on the full encoded label set, so a 64-bit hash collision never reports
// two different series as one.
// 50 writers of 50,000 series each take one to two seconds, single-threaded
// (bench/README.md).
//
// The suggestion is a heuristic built on the identity labels rwkit's push
// path adds, ServiceLabel and InstanceLabel:
//   - writers of different services (Writer.Service differs, or is unknown
//     and the shared series carry no service label) need ServiceLabel;
//   - replicas of one service (Writer.Service equal, or the shared series
//     already carry one service value) need InstanceLabel: with service
//     alone, replicas of one service still collide.
//
// A writer whose own series repeat (two metrics producing one series; what
// gather.ErrDuplicateSeries refuses) is reported in Report.Duplicates: it
// collides with itself in every request it sends.
//
// Find does no I/O. It does not detect the silent kind of collision that
// needs time to show (two writers whose timestamps never coincide); that
// needs the samples over time, not the series. Load does the I/O, and a
// password in a source URL never leaves it: it is sent as basic auth, and
// reports and errors show the URL as http://user:xxxxx@host/... (and a
// token=, key= or other secret-named query parameter as token=xxxxx).
package collide
