package stream

// BodyCap is the capacity of the loop's request body buffer, which the
// benchmark tells apart from the cache in the heap the loop holds.
func BodyCap(l *Loop) int { return cap(l.body) }
