//go:build !js

package dataset

import (
	"runtime"
	"sync"

	"github.com/glimpse-ml/glimpse/core/model"
)

// forEachFile runs work(m, i) for i in [0, n) on up to workers goroutines
// (0: one per CPU), each with its own clone of m, since a model is not safe
// for concurrent use. Results go where work puts them, indexed by i, so
// they do not depend on scheduling. progress, if set, hears the count of
// finished items from this goroutine, in order.
func forEachFile(m *model.Model, n, workers int, progress func(done, total int), work func(m *model.Model, i int)) {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = min(workers, max(1, n))
	queue := make(chan int)
	done := make(chan struct{}, n)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wm := m.Clone()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range queue {
				work(wm, i)
				done <- struct{}{}
			}
		}()
	}
	go func() {
		for i := 0; i < n; i++ {
			queue <- i
		}
		close(queue)
	}()
	for i := 0; i < n; i++ {
		<-done
		if progress != nil {
			progress(i+1, n)
		}
	}
	wg.Wait()
}
