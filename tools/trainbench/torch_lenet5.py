"""torch's side of trainbench: LeNet-5 (the same network as models/
defines, ReLU and max pooling) trained on random 32x32 grey pictures,
batch 64, Adam 1e-3, one thread; prints training examples per second timed
after a warm-up of 512 examples. Argument: the examples to time."""

import sys
import time

import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed(1)
examples = int(sys.argv[1]) if len(sys.argv) > 1 else 6400
model = nn.Sequential(
    nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
n = 512 + examples
x = torch.rand(n, 1, 32, 32)
y = torch.randint(0, 10, (n,))


def step(i):
    opt.zero_grad()
    loss_fn(model(x[i:i + 64]), y[i:i + 64]).backward()
    opt.step()


for i in range(0, 512, 64):
    step(i)
start = time.perf_counter()
for i in range(512, n, 64):
    step(i)
print("%.0f" % (examples / (time.perf_counter() - start)))
