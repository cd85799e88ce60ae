"""Baseline for Chapter 3's speed check: the TF DCGAN tutorial's own training step.

A plain script in the tutorial's style -- its generator and discriminator,
``from_logits`` binary cross-entropy, two Adam(1e-4) optimizers, one
``tf.function`` step with two GradientTapes, batch 256 -- timed as a whole
process (``time python scripts/bench_tutorial_plain.py``) so it can be set
beside ``python -m dcgan_lib train --model tutorial`` on the same images.

    DCGAN_MNIST=... python scripts/bench_tutorial_plain.py --images 5120 --epochs 2
"""
import argparse
import os
import time

T0 = time.perf_counter()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.keras import layers  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--images", type=int, default=5120)
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--batch-size", type=int, default=256)
args = parser.parse_args()

mnist_path = os.environ.get("DCGAN_MNIST") or parser.exit(2, "set DCGAN_MNIST to an .npz in Keras' MNIST layout\n")
with np.load(mnist_path) as f:
    train_images = f["x_train"][: args.images]
train_images = train_images.reshape(-1, 28, 28, 1).astype("float32")
train_images = (train_images - 127.5) / 127.5
train_dataset = (tf.data.Dataset.from_tensor_slices(train_images)
                 .shuffle(60000).batch(args.batch_size))


def make_generator_model():
    return tf.keras.Sequential([
        layers.Input((100,)),
        layers.Dense(7 * 7 * 256, use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Reshape((7, 7, 256)),
        layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh"),
    ])


def make_discriminator_model():
    return tf.keras.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(64, 5, strides=2, padding="same"), layers.LeakyReLU(), layers.Dropout(0.3),
        layers.Conv2D(128, 5, strides=2, padding="same"), layers.LeakyReLU(), layers.Dropout(0.3),
        layers.Flatten(), layers.Dense(1),
    ])


generator = make_generator_model()
discriminator = make_discriminator_model()
cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)
generator_optimizer = tf.keras.optimizers.Adam(1e-4)
discriminator_optimizer = tf.keras.optimizers.Adam(1e-4)


@tf.function
def train_step(images):
    noise = tf.random.normal([args.batch_size, 100])
    with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
        generated_images = generator(noise, training=True)
        real_output = discriminator(images, training=True)
        fake_output = discriminator(generated_images, training=True)
        gen_loss = cross_entropy(tf.ones_like(fake_output), fake_output)
        disc_loss = (cross_entropy(tf.ones_like(real_output), real_output)
                     + cross_entropy(tf.zeros_like(fake_output), fake_output))
    gen_grads = gen_tape.gradient(gen_loss, generator.trainable_variables)
    disc_grads = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
    generator_optimizer.apply_gradients(zip(gen_grads, generator.trainable_variables))
    discriminator_optimizer.apply_gradients(zip(disc_grads, discriminator.trainable_variables))


seen = 0
for epoch in range(args.epochs):
    start = time.perf_counter()
    for image_batch in train_dataset:
        train_step(image_batch)
        seen += int(image_batch.shape[0])
    print(f"Time for epoch {epoch + 1} is {time.perf_counter() - start:.1f} sec")
total = time.perf_counter() - T0
print(f"plain tutorial script: {seen} images in {total:.1f} s whole process "
      f"= {seen / total:.0f} images/s")
