package proxy

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	optionsGroup   = "core.cozystack.io"
	optionsVersion = "v1alpha1"
)

var startTime = time.Now().UTC().Format(time.RFC3339)

// option builds the read-only Option object served at
// /apis/core.cozystack.io/v1alpha1/namespaces/<ns>/options/<name>.
func (p *Proxy) option(ns, name string) (map[string]interface{}, bool) {
	var items []interface{}
	switch name {
	case "gpu":
		for _, g := range p.cfg.Catalog.GPUs {
			items = append(items, map[string]interface{}{
				"name": g.Name, "available": g.Available,
				"description": fmt.Sprintf("%d available on node %s", g.Available, g.Node),
			})
		}
	case "instancetype":
		for _, t := range p.cfg.Catalog.InstanceTypes {
			it := map[string]interface{}{"name": t.Name, "cpu": t.CPU, "memory": t.Memory}
			if t.Memory != "" {
				it["description"] = fmt.Sprintf("%d vCPU, %s memory", t.CPU, t.Memory)
			}
			items = append(items, it)
		}
	default:
		return nil, false
	}
	if items == nil {
		items = []interface{}{}
	}
	meta := map[string]interface{}{"name": name, "resourceVersion": "1", "creationTimestamp": startTime}
	if ns != "" {
		meta["namespace"] = ns
	}
	return map[string]interface{}{
		"apiVersion": optionsGroup + "/" + optionsVersion, "kind": "Option",
		"metadata": meta, "spec": map[string]interface{}{"items": items},
	}, true
}

func (p *Proxy) serveOptions(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeStatus(w, http.StatusMethodNotAllowed, "MethodNotAllowed",
			fmt.Sprintf("%s is not supported: options are read-only", r.Method), nil)
		return
	}
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, "/apis/"+optionsGroup), "/")
	parts := []string{}
	if rest != "" {
		parts = strings.Split(rest, "/")
	}
	gv := map[string]interface{}{"groupVersion": optionsGroup + "/" + optionsVersion, "version": optionsVersion}
	if len(parts) == 0 {
		writeJSON(w, 200, map[string]interface{}{"kind": "APIGroup", "apiVersion": "v1", "name": optionsGroup,
			"versions": []interface{}{gv}, "preferredVersion": gv})
		return
	}
	if parts[0] != optionsVersion {
		writeStatus(w, 404, "NotFound", "the server could not find the requested resource", nil)
		return
	}
	parts = parts[1:]
	if len(parts) == 0 {
		writeJSON(w, 200, map[string]interface{}{
			"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": optionsGroup + "/" + optionsVersion,
			"resources": []interface{}{map[string]interface{}{
				"name": "options", "singularName": "option", "namespaced": true, "kind": "Option",
				"verbs": []string{"get", "list"},
			}},
		})
		return
	}
	ns := ""
	if parts[0] == "namespaces" && len(parts) >= 3 {
		ns = parts[1]
		parts = parts[2:]
	}
	if parts[0] != "options" || len(parts) > 2 {
		writeStatus(w, 404, "NotFound", "the server could not find the requested resource", nil)
		return
	}
	if len(parts) == 1 {
		var items []interface{}
		for _, n := range []string{"gpu", "instancetype"} {
			o, _ := p.option(ns, n)
			items = append(items, o)
		}
		writeJSON(w, 200, map[string]interface{}{"apiVersion": optionsGroup + "/" + optionsVersion, "kind": "OptionList",
			"metadata": map[string]interface{}{"resourceVersion": "1"}, "items": items})
		return
	}
	o, ok := p.option(ns, parts[1])
	if !ok {
		writeStatus(w, 404, "NotFound", fmt.Sprintf("options.%s %q not found", optionsGroup, parts[1]),
			map[string]interface{}{"name": parts[1], "group": optionsGroup, "kind": "options"})
		return
	}
	writeJSON(w, 200, o)
}
