// Package catalog holds what the simulated cluster offers: GPU resource
// names (with a count of free devices) and KubeVirt instance types.
package catalog

import (
	"fmt"
	"strconv"
	"strings"
)

// GPU is one GPU resource name advertised by the nodes.
type GPU struct {
	Name      string `json:"name"`
	Available int    `json:"available"`
	Node      string `json:"-"`
}

// InstanceType is one VirtualMachineClusterInstancetype.
type InstanceType struct {
	Name   string `json:"name"`
	CPU    int    `json:"cpu"`
	Memory string `json:"memory"`
}

// DefaultGPUs: Hikube's three GPU models followed by the other Cozystack
// gpu-passthrough defaults.
const DefaultGPUs = "nvidia.com/AD102GL_L40S,nvidia.com/GA100_A100_PCIE_80GB,nvidia.com/H100_94GB," +
	"nvidia.com/GH100_H200_SXM_141GB,nvidia.com/GH100_H100_SXM5_80GB,nvidia.com/GA102GL_A10"

// ParseGPUs reads "name[=count],name[=count]"; the default count is 4.
func ParseGPUs(s string) ([]GPU, error) {
	var out []GPU
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, count := part, 4
		if n, c, ok := strings.Cut(part, "="); ok {
			v, err := strconv.Atoi(c)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("invalid GPU count in %q", part)
			}
			name, count = n, v
		}
		out = append(out, GPU{Name: name, Available: count, Node: fmt.Sprintf("gpu-%d", i+1)})
	}
	return out, nil
}

type family struct {
	prefix string
	sizes  [][3]interface{} // size, cpu, memory
}

var families = []family{
	{"u1", [][3]interface{}{{"nano", 1, "512Mi"}, {"micro", 1, "1Gi"}, {"small", 1, "2Gi"}, {"medium", 1, "4Gi"},
		{"2xmedium", 2, "4Gi"}, {"large", 2, "8Gi"}, {"xlarge", 4, "16Gi"}, {"2xlarge", 8, "32Gi"},
		{"4xlarge", 16, "64Gi"}, {"8xlarge", 32, "128Gi"}}},
	{"o1", [][3]interface{}{{"nano", 1, "512Mi"}, {"micro", 1, "1Gi"}, {"small", 1, "2Gi"}, {"medium", 1, "4Gi"},
		{"large", 2, "8Gi"}, {"xlarge", 4, "16Gi"}, {"2xlarge", 8, "32Gi"}, {"4xlarge", 16, "64Gi"}, {"8xlarge", 32, "128Gi"}}},
	{"cx1", [][3]interface{}{{"medium", 1, "2Gi"}, {"large", 2, "4Gi"}, {"xlarge", 4, "8Gi"}, {"2xlarge", 8, "16Gi"},
		{"4xlarge", 16, "32Gi"}, {"8xlarge", 32, "64Gi"}}},
	{"m1", [][3]interface{}{{"large", 2, "16Gi"}, {"xlarge", 4, "32Gi"}, {"2xlarge", 8, "64Gi"}, {"4xlarge", 16, "128Gi"},
		{"8xlarge", 32, "256Gi"}}},
	{"n1", [][3]interface{}{{"medium", 4, "4Gi"}, {"large", 8, "8Gi"}, {"xlarge", 16, "16Gi"}, {"2xlarge", 32, "32Gi"},
		{"4xlarge", 64, "64Gi"}, {"8xlarge", 64, "128Gi"}}},
	{"gn1", [][3]interface{}{{"xlarge", 4, "16Gi"}, {"2xlarge", 8, "32Gi"}, {"4xlarge", 16, "64Gi"}, {"8xlarge", 32, "128Gi"}}},
	{"s1", [][3]interface{}{{"small", 1, "2Gi"}, {"medium", 2, "4Gi"}, {"large", 4, "8Gi"}, {"xlarge", 8, "16Gi"},
		{"3large", 12, "24Gi"}, {"2xlarge", 16, "32Gi"}, {"3xlarge", 24, "48Gi"}, {"4xlarge", 32, "64Gi"}, {"8xlarge", 64, "128Gi"}}},
}

// DefaultInstanceTypes: KubeVirt common instance types shipped by Cozystack
// (u1, o1, cx1, m1, n1, gn1) plus Hikube's s1 family.
func DefaultInstanceTypes() []InstanceType {
	var out []InstanceType
	for _, f := range families {
		for _, s := range f.sizes {
			out = append(out, InstanceType{Name: f.prefix + "." + s[0].(string), CPU: s[1].(int), Memory: s[2].(string)})
		}
	}
	return out
}

// ParseInstanceTypes reads "name[:cpu:memory],..." (e.g. "u1.medium:1:4Gi").
func ParseInstanceTypes(s string) ([]InstanceType, error) {
	var out []InstanceType
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		f := strings.Split(part, ":")
		it := InstanceType{Name: f[0]}
		if len(f) == 3 {
			v, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("invalid cpu in instance type %q", part)
			}
			it.CPU, it.Memory = v, f[2]
		} else if len(f) != 1 {
			return nil, fmt.Errorf("instance type %q: want name or name:cpu:memory", part)
		}
		out = append(out, it)
	}
	return out, nil
}

// Catalog is what the cluster offers.
type Catalog struct {
	GPUs          []GPU
	InstanceTypes []InstanceType
}

// HasGPU reports whether a GPU resource name is advertised.
func (c *Catalog) HasGPU(name string) bool {
	for _, g := range c.GPUs {
		if g.Name == name {
			return true
		}
	}
	return false
}

// HasInstanceType reports whether an instance type exists.
func (c *Catalog) HasInstanceType(name string) bool {
	for _, t := range c.InstanceTypes {
		if t.Name == name {
			return true
		}
	}
	return false
}
