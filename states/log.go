package states

import "go.uber.org/zap"

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func logContainer(id string) zap.Field { return zap.String("container", short(id)) }
func logName(n string) zap.Field       { return zap.String("name", n) }
func logError(err error) zap.Field     { return zap.Error(err) }
