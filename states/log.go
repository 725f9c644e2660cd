package states

import "go.uber.org/zap"

// ShortID is a container ID as docker ps shows it: 12 characters.
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func logContainer(id string) zap.Field { return zap.String("container", ShortID(id)) }
func logName(n string) zap.Field       { return zap.String("name", n) }
func logError(err error) zap.Field     { return zap.Error(err) }
