package lbmodule

// Open counts one more request or connection being served: Current,
// Sessions and Max. Counters kept outside a backend (a frontend's) use it;
// Close undoes Current.
func (c *Counters) Open() { c.take() }

// Close counts the end of a request or connection that Open counted.
func (c *Counters) Close() { c.Current.Add(-1) }
