package proxy

import (
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// laggingCache imitates the informer cache cozystack-api reads from: it
// follows a watch of every app resource, but applies each event only after a
// lag, so a read can return a copy older than what etcd holds.
type laggingCache struct {
	mu   sync.Mutex
	objs map[string]*unstructured.Unstructured
	lag  func() time.Duration
}

func cacheKey(plural, ns, name string) string { return plural + "/" + ns + "/" + name }

func rvOf(u *unstructured.Unstructured) int64 {
	v, _ := strconv.ParseInt(u.GetResourceVersion(), 10, 64)
	return v
}

func newLaggingCache(dyn dynamic.Interface, group, version string, plurals []string, lag func() time.Duration, stop <-chan struct{}) *laggingCache {
	c := &laggingCache{objs: map[string]*unstructured.Unstructured{}, lag: lag}
	f := dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0)
	for _, p := range plurals {
		plural := p
		inf := f.ForResource(schema.GroupVersionResource{Group: group, Version: version, Resource: plural}).Informer()
		set := func(obj interface{}) {
			u, ok := obj.(*unstructured.Unstructured)
			if !ok {
				return
			}
			u = u.DeepCopy()
			time.AfterFunc(c.lag(), func() {
				c.mu.Lock()
				defer c.mu.Unlock()
				k := cacheKey(plural, u.GetNamespace(), u.GetName())
				if old, ok := c.objs[k]; ok && rvOf(old) >= rvOf(u) {
					return
				}
				c.objs[k] = u
			})
		}
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    set,
			UpdateFunc: func(_, n interface{}) { set(n) },
			DeleteFunc: func(obj interface{}) {
				if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
					obj = d.Obj
				}
				u, ok := obj.(*unstructured.Unstructured)
				if !ok {
					return
				}
				k := cacheKey(plural, u.GetNamespace(), u.GetName())
				time.AfterFunc(c.lag(), func() {
					c.mu.Lock()
					defer c.mu.Unlock()
					delete(c.objs, k)
				})
			},
		})
	}
	f.Start(stop)
	f.WaitForCacheSync(stop)
	return c
}

func (c *laggingCache) get(plural, ns, name string) *unstructured.Unstructured {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, ok := c.objs[cacheKey(plural, ns, name)]; ok {
		return u.DeepCopy()
	}
	return nil
}
