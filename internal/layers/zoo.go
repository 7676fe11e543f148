package layers

import "github.com/simdconv/simdconv/kernels"

// Zoo lists Z01 to Z32, the layers of real networks in the peer harness's
// zoo_shapes.csv (MobileNet, EfficientNet, ResNet's stride-2 blocks, LeNet,
// CIFAR nets at batch 32–64, U-Net), for the benchmarks that go beyond the
// layer table. Square layers only: H and W, R and S are equal in each
// but Z30 and Z31, written out.
var Zoo = []Layer{
	{"Z01", "ResNet-18 layer2 downsample 3x3 s2", sq(1, 64, 56, 128, 3, 2, 1, 1, 1)},
	{"Z02", "ResNet-18 layer2 projection 1x1 s2", sq(1, 64, 56, 128, 1, 2, 0, 1, 1)},
	{"Z03", "ResNet-18 layer3 downsample 3x3 s2", sq(1, 128, 28, 256, 3, 2, 1, 1, 1)},
	{"Z04", "ResNet-18 layer4 projection 1x1 s2", sq(1, 256, 14, 512, 1, 2, 0, 1, 1)},
	{"Z05", "ResNet-50 bottleneck expand 1x1", sq(1, 64, 56, 256, 1, 1, 0, 1, 1)},
	{"Z06", "ResNet-50 bottleneck reduce 1x1", sq(1, 1024, 14, 256, 1, 1, 0, 1, 1)},
	{"Z07", "ResNet-50 last expand 1x1", sq(1, 512, 7, 2048, 1, 1, 0, 1, 1)},
	{"Z08", "MobileNetV2 stem s2", sq(1, 3, 224, 32, 3, 2, 1, 1, 1)},
	{"Z09", "MobileNetV2 depthwise s1 112", sq(1, 32, 112, 32, 3, 1, 1, 1, 32)},
	{"Z10", "MobileNetV2 depthwise s2 112->56", sq(1, 96, 112, 96, 3, 2, 1, 1, 96)},
	{"Z11", "MobileNetV2 depthwise s2 28->14", sq(1, 192, 28, 192, 3, 2, 1, 1, 192)},
	{"Z12", "MobileNetV2 depthwise s1 7", sq(1, 960, 7, 960, 3, 1, 1, 1, 960)},
	{"Z13", "MobileNetV2 pointwise expand", sq(1, 24, 56, 144, 1, 1, 0, 1, 1)},
	{"Z14", "MobileNetV2 pointwise project", sq(1, 144, 56, 24, 1, 1, 0, 1, 1)},
	{"Z15", "EfficientNet-B0 depthwise 5x5 s2", sq(1, 240, 28, 240, 5, 2, 2, 1, 240)},
	{"Z16", "ConvNeXt depthwise 7x7", sq(1, 96, 56, 96, 7, 1, 3, 1, 96)},
	{"Z17", "ResNeXt grouped 3x3 g32", sq(1, 128, 56, 128, 3, 1, 1, 1, 32)},
	{"Z18", "VGG-16 conv1_1", sq(1, 3, 224, 64, 3, 1, 1, 1, 1)},
	{"Z19", "VGG-16 conv2_1", sq(1, 64, 112, 128, 3, 1, 1, 1, 1)},
	{"Z20", "VGG-16 conv5", sq(1, 512, 14, 512, 3, 1, 1, 1, 1)},
	{"Z21", "AlexNet conv1 11x11 s4", sq(1, 3, 227, 96, 11, 4, 0, 1, 1)},
	{"Z22", "LeNet conv1 batch 64", sq(64, 1, 28, 6, 5, 1, 2, 1, 1)},
	{"Z23", "LeNet conv2 batch 64", sq(64, 6, 14, 16, 5, 1, 0, 1, 1)},
	{"Z24", "CIFAR ResNet-20 stage 1 batch 32", sq(32, 16, 32, 16, 3, 1, 1, 1, 1)},
	{"Z25", "CIFAR ResNet-20 downsample batch 32", sq(32, 16, 32, 32, 3, 2, 1, 1, 1)},
	{"Z26", "CIFAR ResNet-20 stage 2 batch 32", sq(32, 32, 16, 32, 3, 1, 1, 1, 1)},
	{"Z27", "CIFAR stem batch 64", sq(64, 3, 32, 16, 3, 1, 1, 1, 1)},
	{"Z28", "U-Net full-resolution 3x3", sq(1, 32, 256, 32, 3, 1, 1, 1, 1)},
	{"Z29", "DeepLab atrous 3x3 dilation 4", sq(1, 256, 32, 256, 3, 1, 4, 4, 1)},
	{"Z30", "odd sizes", kernels.Conv2DParams{N: 3, C: 7, H: 19, W: 23, K: 11, R: 3, S: 3,
		StrideH: 1, StrideW: 1, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1,
		DilationH: 1, DilationW: 1, Groups: 1}},
	{"Z31", "odd sizes rectangular filter", kernels.Conv2DParams{N: 2, C: 5, H: 31, W: 17, K: 9, R: 5, S: 3,
		StrideH: 1, StrideW: 1, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1,
		DilationH: 1, DilationW: 1, Groups: 1}},
	{"Z32", "small-batch training s2", sq(8, 64, 14, 64, 3, 2, 1, 1, 1)},
}
