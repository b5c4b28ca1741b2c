package train

import "testing"

// BenchmarkTrainTM is one Teachable Machine epoch on 2,000 samples of a
// MobileNetV2-sized embedding (1280 values, 10 classes).
func BenchmarkTrainTM(b *testing.B) {
	s := uniformSamples(4, 500, 1280)
	cfg, _ := Preset("tm")
	cfg.Epochs = 1
	for b.Loop() {
		if _, err := Train(s, cfg, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrain2x100 is the app's common case: the default head
// (DefaultHead, 200 epochs) on two classes of 100 cached multi-level
// MobileNetV2 features (1,856 values).
func BenchmarkTrain2x100(b *testing.B) {
	s := uniformSamples(2, 100, 1856)
	cfg, _ := Preset(DefaultHead)
	for b.Loop() {
		if _, err := Train(s, cfg, nil); err != nil {
			b.Fatal(err)
		}
	}
}
